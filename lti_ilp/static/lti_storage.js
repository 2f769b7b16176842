// LTI client-side storage, tool side: keeps the login state in the LMS's storage frame
// when the browser drops the tool's cookies inside the LMS iframe.
//
// The page element with id "lti-storage" carries the data attributes. data-action is "put"
// on the login page and "get" on the launch check page. data-target is the
// lti_storage_target frame name. data-origin is the platform origin, the only one that
// messages go to and come from. "put" also needs data-value and data-next, the URL to
// go on to.
(function () {
  "use strict";

  var TIMEOUT_MS = 2000;
  // A platform responds to the current subjects, the older org.imsglobal.lti.* ones, or
  // both, so each request is sent under both names and the first successful response wins.
  var PREFIXES = ["lti.", "org.imsglobal.lti."];

  function storageFrame(name) {
    if (window.parent === window) {
      return null;
    }
    if (name === "_parent") {
      return window.parent;
    }
    try {
      return window.parent.frames[name] || null;
    } catch (error) {
      return null;
    }
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // Send one storage request and resolve with the platform's response. Reject when every
  // subject name gets an error response, or after TIMEOUT_MS.
  function request(frame, origin, action, fields) {
    return new Promise(function (resolve, reject) {
      var pending = {};
      var failures = 0;
      var timer;

      function finish(handler, value) {
        window.clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        handler(value);
      }

      function onMessage(event) {
        var data = event.data;
        if (event.origin !== origin || event.source !== frame) {
          return;
        }
        if (!data || typeof data !== "object" || !pending[data.message_id]) {
          return;
        }
        if (data.subject !== pending[data.message_id] + ".response") {
          return;
        }
        if (data.error) {
          failures += 1;
          if (failures === PREFIXES.length) {
            finish(reject, new Error("storage error"));
          }
          return;
        }
        finish(resolve, data);
      }

      window.addEventListener("message", onMessage);
      timer = window.setTimeout(function () {
        finish(reject, new Error("storage timed out"));
      }, TIMEOUT_MS);
      PREFIXES.forEach(function (prefix) {
        var id = randomId();
        var subject = prefix + action;
        var message = { subject: subject, message_id: id };
        pending[id] = subject;
        Object.keys(fields).forEach(function (name) {
          message[name] = fields[name];
        });
        frame.postMessage(message, origin);
      });
    });
  }

  function showFallback() {
    var checking = document.getElementById("lti-storage-checking");
    var fallback = document.getElementById("lti-storage-fallback");
    if (checking) {
      checking.hidden = true;
    }
    if (fallback) {
      fallback.hidden = false;
      var heading = fallback.querySelector("h1, h2");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    }
  }

  function putThenContinue(element, frame) {
    var data = element.dataset;
    var next = function () {
      window.location.replace(data.next);
    };
    if (!frame) {
      next();
      return;
    }
    // The login goes on after any response or a timeout, because the state cookie may
    // still work.
    request(frame, data.origin, "put_data", { key: data.key, value: data.value })
      .then(next, next);
  }

  function getThenPost(element, frame) {
    var data = element.dataset;
    var form = document.getElementById("lti-storage-form");
    if (!frame || !form) {
      showFallback();
      return;
    }
    request(frame, data.origin, "get_data", { key: data.key }).then(function (response) {
      if (typeof response.value !== "string" || !response.value) {
        showFallback();
        return;
      }
      form.elements.lti_storage_state.value = response.value;
      form.submit();
    }, showFallback);
  }

  function start() {
    var element = document.getElementById("lti-storage");
    if (!element) {
      return;
    }
    var frame = storageFrame(element.dataset.target);
    if (element.dataset.action === "put") {
      putThenContinue(element, frame);
    } else {
      getThenPost(element, frame);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
