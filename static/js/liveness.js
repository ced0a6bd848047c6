/* The camera check of the identity page (kyc/status.html) and of the
   attendance page (enrollment/attendance.html): any form with a
   data-challenge-url.

   Progressive enhancement: without a camera, without this script, or when
   the person prefers, the page's form sends a KTP photo and a selfie, and a
   reviewer decides ("no liveness"). With a camera, this script
   1. asks the server for a one-time challenge (a nonce and two or three
      actions in a random order, always a blink; about a minute to answer);
   2. shows each instruction and takes a short series of pictures while the
      person does it (a canvas copy of the camera's video, as JPEG);
   3. puts the pictures into the form's file inputs frames_0, frames_1...,
      the nonce into its hidden field, and sends the form as usual, so any
      refusal comes back on the page like any form error.
   The server, not this script, decides whether the pictures show a live
   person doing what was asked (kyc/liveness.py). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-challenge-url]");
  if (!form) return;
  var box = document.getElementById("live-check");
  var video = document.getElementById("live-video");
  var say = document.getElementById("live-instruction");
  var start = document.getElementById("live-start");
  var skip = document.getElementById("live-skip");
  var send = document.getElementById("kyc-send");
  var ktp = document.getElementById("id_ktp_photo");
  var selfie = document.getElementById("id_selfie");
  var selfieField = selfie && selfie.closest(".field");
  var canUse = navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.DataTransfer &&
    window.fetch && HTMLCanvasElement.prototype.toBlob;
  if (!canUse || !box) return;
  var stream = null;

  function text(name) { return form.getAttribute("data-text-" + name) || ""; }
  function wait(ms) { return new Promise(function (done) { window.setTimeout(done, ms); }); }
  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function useCamera(yes, why) {
    box.hidden = !yes;
    send.hidden = yes;
    if (selfieField) selfieField.classList.toggle("hidden-by-camera", yes);
    if (!yes) {
      stop();
      if (why) {
        var note = document.createElement("p");
        note.className = "notice"; note.setAttribute("role", "status"); note.textContent = why;
        form.insertBefore(note, form.firstChild);
      }
    }
  }

  function snap(size) {
    var w = video.videoWidth, h = video.videoHeight;
    var scale = Math.min(1, size / Math.max(w, h));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (done) { canvas.toBlob(done, "image/jpeg", 0.8); });
  }

  // A phone's KTP photo is several megabytes; 1600 pixels are enough to read
  // it and much quicker to send on a weak connection.
  function smaller(file) {
    if (!window.createImageBitmap || file.size < 1500000) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale); canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (done) { canvas.toBlob(done, "image/jpeg", 0.9); });
    }).then(function (blob) {
      return blob ? new File([blob], "ktp.jpg", { type: "image/jpeg" }) : file;
    }, function () { return file; });  // a format the browser cannot draw (HEIC): send it as it is
  }

  function put(input, files) {
    var list = new DataTransfer();
    files.forEach(function (f) { list.items.add(f); });
    input.files = list.files;
  }

  async function run() {
    if (ktp && !ktp.files.length) { say.textContent = text("no-ktp"); ktp.focus(); return; }
    start.disabled = true; skip.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false
      });
    } catch (e) {
      useCamera(false, text("no-camera"));
      return;
    }
    try {
      video.srcObject = stream;
      await video.play();
      say.textContent = text("start");
      var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
      var response = await fetch(form.getAttribute("data-challenge-url"), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token, "Accept": "application/json" }
      });
      var challenge = await response.json();
      if (!response.ok) throw new Error(challenge.error || text("failed"));
      await wait(1000);
      var slots = form.querySelectorAll("input.live-frames");
      for (var i = 0; i < challenge.actions.length; i++) {
        say.textContent = text("step") + " " + (i + 1) + "/" + challenge.actions.length + ": " +
          challenge.actions[i].text;
        await wait(700);
        var frames = [];
        for (var n = 0; n < challenge.frames; n++) {
          var blob = await snap(challenge.size);
          frames.push(new File([blob], "f" + n + ".jpg", { type: "image/jpeg" }));
          await wait(challenge.interval_ms);
        }
        put(slots[i], frames);
      }
      stop();
      say.textContent = text("sending");
      if (ktp) put(ktp, [await smaller(ktp.files[0])]);
      form.querySelector("[name=nonce]").value = challenge.nonce;
      if (form.requestSubmit) { form.requestSubmit(send); } else { form.submit(); }
    } catch (e) {
      stop();
      say.textContent = (e && e.message) || text("failed");
      start.disabled = false; skip.disabled = false;
    }
  }

  useCamera(true);
  start.addEventListener("click", run);
  skip.addEventListener("click", function () { useCamera(false); });
})();
