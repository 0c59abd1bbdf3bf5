"""The REST API: the same reads and the same workflow services as the pages,
for automation (token) and for the browsable docs (session).

Views stay thin: input serializers check the JSON's shape, the request form
and formset judge the content (``create.py``), the workflow services change
state, and the exception handler turns their refusals into statuses.
"""
