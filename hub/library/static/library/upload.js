// Shows how much of an upload has been sent. Without this script the form still works.
(function () {
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    var box = form.querySelector(".upload-progress");
    if (!box || !window.FormData || !window.XMLHttpRequest) return;
    form.addEventListener("submit", function (event) {
      var hasFile = Array.prototype.some.call(form.querySelectorAll("input[type=file]"),
        function (input) { return input.files && input.files.length; });
      if (!hasFile) return;
      event.preventDefault();
      var bar = box.querySelector("progress"), text = box.querySelector("[aria-live]");
      box.hidden = false;
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent; bar.textContent = percent + "%";
        text.textContent = percent < 100 ? percent + "% sent" : "Sent; checking the files…";
      });
      request.addEventListener("load", function () {
        // Show the page the server answered with (it carries the messages about each file),
        // at the address it came from.
        if (request.responseURL) {
          window.history.replaceState(null, "", request.responseURL);
        }
        document.open(); document.write(request.responseText); document.close();
      });
      request.addEventListener("error", function () {
        text.textContent = "The upload failed. Check your connection and try again.";
      });
      request.send(new FormData(form));
    });
  });
})();
