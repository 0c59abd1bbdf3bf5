from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("oidc/", include("portal.sso")),
    path("api/", include("secrets_app.api.urls")),
    path("", include("secrets_app.web.urls")),
]

admin.site.site_header = "Secrets Access Portal administration"
admin.site.site_title = "Secrets Access Portal"
