window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (im) { return !(im.complete && im.naturalWidth > 0); });
  document.body.setAttribute("data-images",
    broken.length === 0 ? "ok " + images.length : "broken " + broken.length + "/" + images.length);
});
