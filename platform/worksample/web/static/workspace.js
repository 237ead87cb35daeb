// The workspace top bar: countdown from server time, save state, warnings, Submit with a confirm.
// No framework, no external assets: the page's CSP allows only same-origin scripts.
(function () {
  "use strict";
  var bar = document.getElementById("topbar");
  var attempt = bar.dataset.attempt;
  var deadline = parseFloat(bar.dataset.deadline);
  // Offset between the server clock and ours, so a wrong laptop clock does not move the deadline.
  var offset = parseFloat(bar.dataset.serverNow) - Date.now() / 1000;
  var lastSave = null, warned = {}, closing = false;
  // Until the workspace first answers the clock has not started: it shows the whole time, standing still.
  var clockStarted = bar.dataset.clockStarted === "1";
  var timeLimit = parseFloat(bar.dataset.timeLimit);
  var workspace = bar.dataset.workspace;
  var lab = document.getElementById("lab");
  var labProgress = document.getElementById("lab-progress");
  var labQueue = document.getElementById("lab-queue");
  var clock = document.getElementById("countdown");
  var warning = document.getElementById("warning");
  var saveState = document.getElementById("save-state");
  var submitButton = document.getElementById("submit");
  var stateUrl = "/api/v1/attempts/" + attempt;

  function now() { return Date.now() / 1000 + offset; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function warn(text, urgent) {
    warning.textContent = text;
    warning.hidden = false;
    warning.classList.toggle("urgent", !!urgent);
  }

  function hms(left) {
    return pad(Math.floor(left / 3600)) + ":" + pad(Math.floor(left / 60) % 60) + ":" + pad(left % 60);
  }

  function tick() {
    // Nothing to hand in before the workspace first answers (the API refuses it too).
    submitButton.disabled = !clockStarted;
    submitButton.title = clockStarted ? "" : "You can submit once your workspace is ready";
    if (!clockStarted) {
      clock.textContent = hms(Math.max(0, Math.floor(timeLimit)));
      clock.title = "Your clock starts when your workspace is ready";
      return;
    }
    clock.title = "";
    var left = Math.max(0, Math.floor(deadline - now()));
    clock.textContent = hms(left);
    clock.classList.toggle("soon", left <= 600);
    clock.classList.toggle("urgent", left <= 120);
    if (left <= 600 && left > 120 && !warned[10]) { warned[10] = true; warn("10 minutes left. Your work is saved automatically and submitted when the time is up."); }
    if (left <= 120 && left > 0 && !warned[2]) { warned[2] = true; warn("2 minutes left. Save now: what is saved at the deadline is what gets submitted.", true); }
    if (left <= 0 && !closing) { closing = true; warn("Time is up. Submitting your work…", true); setTimeout(poll, 3000); }
    if (lastSave) {
      var ago = Math.max(0, Math.round(now() - lastSave));
      saveState.textContent = ago < 60 ? "saved " + ago + " s ago" : "saved " + Math.round(ago / 60) + " min ago";
    }
  }

  function poll() {
    fetch(stateUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (s) {
      offset = s.server_ts - Date.now() / 1000;
      deadline = s.deadline_ts;
      clockStarted = !!s.clock_started;
      timeLimit = s.deadline_ts - s.started_ts;
      if (s.last_save_ts) { lastSave = s.last_save_ts; }
      if (s.status !== "running") { window.location.replace("/w/" + attempt + "/"); return; }
      showWorkspace(s.workspace);
      tick();
      if (closing) { setTimeout(poll, 3000); }
    }).catch(function () { if (closing) { setTimeout(poll, 5000); } });
  }

  function showWorkspace(w) {
    // Progress while the workspace comes up (place in line, starting, a failed start being retried); the
    // frame is loaded only once JupyterLab answers.
    if (!w) { return; }
    workspace = w.state;
    labQueue.hidden = clockStarted;
    if (w.state === "ready") {
      if (!lab.getAttribute("src")) { lab.setAttribute("src", lab.dataset.src); }
      labProgress.textContent = "Starting JupyterLab…";
      return;
    }
    if (w.state === "queued") {
      labProgress.textContent = "Many candidates are starting at once: you are number " + w.position +
        " in line for a workspace (about " + w.estimate_s + " s).";
    } else if (w.state === "failed") {
      labProgress.textContent = w.message;
    } else {
      labProgress.textContent = "Starting JupyterLab…";
    }
  }

  function pollWorkspace() {
    // Every 1.5 s until the workspace answers (the countdown's own poll is every 10 s).
    if (workspace === "ready" && lab.getAttribute("src")) { return; }
    poll();
    setTimeout(pollWorkspace, 1500);
  }

  function saveOpenNotebooks() {
    // Ask JupyterLab to save everything before handing in (best effort: the last autosave counts anyway).
    try {
      var app = document.getElementById("lab").contentWindow.jupyterapp;
      if (app && app.commands.hasCommand("docmanager:save-all")) { return app.commands.execute("docmanager:save-all"); }
    } catch (e) { /* not loaded yet */ }
    return Promise.resolve();
  }

  function submit() {
    var yes = document.getElementById("confirm-yes");
    yes.disabled = true;
    yes.textContent = "Submitting…";
    var post = function () {
      return fetch("/api/v1/attempts/" + attempt + "/submit", { method: "POST", credentials: "same-origin" });
    };
    var timeout = new Promise(function (resolve) { setTimeout(resolve, 5000); });
    Promise.race([saveOpenNotebooks(), timeout]).catch(function () {}).then(post).then(function (r) {
      if (r.status === 202 || r.status === 410) { window.location.replace("/w/" + attempt + "/"); return; }
      throw new Error(r.status);
    }).catch(function () {
      yes.disabled = false;
      yes.textContent = "Submit now";
      warn("Submitting failed. Please try again.", true);
    });
  }

  var dialog = document.getElementById("confirm");
  submitButton.addEventListener("click", function () { dialog.showModal(); });
  document.getElementById("confirm-no").addEventListener("click", function () { dialog.close(); });
  document.getElementById("confirm-yes").addEventListener("click", submit);
  tick();
  setInterval(tick, 1000);
  setInterval(poll, 10000);
  poll();
  if (workspace !== "ready") { setTimeout(pollWorkspace, 1500); }
})();
