// Progressive enhancement for the report form: the location is added only when the
// person taps for it. Without JavaScript the form works the same, just without it.
// Messages come from the button's data attributes, which the template translates.
(function () {
  "use strict";
  var button = document.getElementById("use-location");
  // Browsers give a position only to a secure context (HTTPS, or this very machine): on
  // plain HTTP over a LAN, as in the demo, the button would only ever fail.
  if (!button || !navigator.geolocation || !window.isSecureContext) { return; }
  var status = document.getElementById("location-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.busy;
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("latitude").value = pos.coords.latitude.toFixed(6);
      document.getElementById("longitude").value = pos.coords.longitude.toFixed(6);
      status.textContent = button.dataset.done;
    }, function () {
      status.textContent = button.dataset.failed;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
