// The main menu on a phone: folded behind the "Menu" button (portal.css
// shows the button and folds the menu only on narrow screens, and only once
// this script has marked the header: without it, the menu stays open).
document.addEventListener("DOMContentLoaded", () => {
  const header = document.querySelector(".topbar");
  const toggle = header && header.querySelector(".menu-toggle");
  if (!toggle) return;
  header.classList.add("foldable");
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = header.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
});
