// Try a call: speak the sentences with the browser's voice, and press keys from the keyboard.
// The page works without this script (every key is a form button).
(function () {
  "use strict";
  var speak = document.getElementById("speak");
  if (speak && "speechSynthesis" in window) {
    speak.hidden = false;
    speak.addEventListener("click", function () {
      // The sentences since the last key press: what the caller hears now.
      var items = document.querySelectorAll("#transcript li");
      var latest = [];
      for (var i = items.length - 1; i >= 0 && !items[i].classList.contains("key"); i--) {
        if (items[i].classList.contains("say")) { latest.unshift(items[i]); }
      }
      window.speechSynthesis.cancel();
      latest.forEach(function (item) {
        var utterance = new SpeechSynthesisUtterance(item.textContent);
        utterance.lang = item.getAttribute("data-lang") || document.documentElement.lang;
        window.speechSynthesis.speak(utterance);
      });
    });
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) { return; }
    var button = document.querySelector('#keypad button[data-key="' + event.key + '"]');
    if (button) { event.preventDefault(); button.click(); }
  });
}());
