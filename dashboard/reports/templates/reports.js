// The /reports page's "generate" form: POST /reports/make with the session's CSRF token in the
// X-CSRFToken header (the gate refuses a POST without it), then reload the list.
(function () {
  "use strict";
  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("report-make");
    var status = document.getElementById("report-make-status");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = new URLSearchParams(new FormData(form)).toString();
      var button = form.querySelector("button");
      button.disabled = true;
      status.textContent = "…";
      fetch("/reports/make?" + query, {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf()}})
        .then(function (response) {
          return response.json().then(function (body) { return {ok: response.ok, body: body}; });
        })
        .then(function (result) {
          if (result.ok) { window.location.reload(); return; }
          var errors = result.body.errors || [{message: String(result.body.detail || "error")}];
          status.textContent = errors.map(function (e) { return e.message; }).join("; ");
        })
        .catch(function (error) { status.textContent = String(error); })
        .finally(function () { button.disabled = false; });
    });
  });
})();
