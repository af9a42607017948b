// Progressive enhancement for the survey's pages. Without this file every page still
// works: forms post to their step's own address and the server says every limit.
(function () {
  "use strict";

  // A step's POST is answered with the page of the step that follows, so the address bar
  // and the history entry still hold the address the form was sent to. Put the shown
  // step's own address there instead: a reload or the browser's Back button then fetches
  // the step with a GET instead of offering to send the form again.
  var script = document.currentScript;
  var stepUrl = script && script.getAttribute("data-step-url");
  if (stepUrl && window.history && window.history.replaceState) {
    var shown = window.location.pathname + window.location.search;
    if (shown !== stepUrl) window.history.replaceState(null, "", stepUrl);
  }
})();

// Live character count under the comment (the GOV.UK character count pattern).
// Without it the page states the limit and the server refuses a longer comment with a
// message.
(function () {
  "use strict";
  var field = document.querySelector("textarea[data-limit]");
  var count = document.getElementById("comment-limit");
  if (!field || !count) return;
  var limit = parseInt(field.getAttribute("data-limit"), 10);
  var countText = field.getAttribute("data-count-text");
  var overText = field.getAttribute("data-over-text");
  // Screen readers hear the count once typing pauses, not at every key.
  var status = document.createElement("div");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  count.parentNode.insertBefore(status, count.nextSibling);
  var timer = null;

  function update(announce) {
    // Line breaks count once, as the server counts them.
    var length = field.value.replace(/\r\n/g, "\n").length;
    var over = length - limit;
    var text = (over > 0 ? overText : countText)
      .replace("{count}", String(length))
      .replace("{over}", String(over));
    count.textContent = text;
    count.classList.toggle("character-count-over", over > 0);
    field.classList.toggle("textarea-error", over > 0);
    if (announce) {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { status.textContent = text; }, 1000);
    }
  }

  field.addEventListener("input", function () { update(true); });
  update(false);
})();
