// Progressive enhancement: a button that copies a code (the receipt) to the clipboard.
// Without JavaScript the button stays hidden and the code is plain, selectable text.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var target = document.getElementById(button.dataset.copy);
  if (!target || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(target.textContent.trim()).then(function () {
      button.textContent = button.dataset.done;
    });
  });
});
