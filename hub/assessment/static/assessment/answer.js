// Answers are saved as they are given (htmx posts the page on each change). If a save cannot
// reach the hub, say so plainly: what was typed stays on the page and is sent by the next save.
document.addEventListener("htmx:sendError", showUnsaved);
document.addEventListener("htmx:responseError", showUnsaved);

function showUnsaved(event) {
  const status = document.getElementById("save-status");
  if (!status || !event.target.closest("[data-autosave]")) return;
  const message = document.createElement("p");
  message.className = "message message-error";
  message.textContent = "Not saved: the hub could not be reached. Your answers are still on " +
    "this page and will be saved with your next change, or when you press Save and continue.";
  status.replaceChildren(message);
}
