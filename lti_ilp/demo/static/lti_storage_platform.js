// LTI client-side storage, platform side: responds to lti.put_data and lti.get_data (and
// the older org.imsglobal.lti.* names) from the tool's frame on the course page.
//
// The script element carries data-tool-url, the tool's base URL; messages from any other origin are ignored.
// Values are kept in memory per tool origin, for as long as the course page stays open,
// which covers one login and its launch.
(function () {
  "use strict";

  var script = document.currentScript;
  var toolOrigin = "";
  try {
    toolOrigin = new URL(script.dataset.toolUrl).origin;
  } catch (err) {
    toolOrigin = "";
  }
  var MAX_KEY_LENGTH = 256;
  var MAX_VALUE_LENGTH = 4096;
  var MAX_ENTRIES = 200;
  var values = new Map();
  var ACTIONS = ["put_data", "get_data", "capabilities"];

  function splitSubject(subject) {
    var prefixes = ["lti.", "org.imsglobal.lti."];
    for (var i = 0; i < prefixes.length; i += 1) {
      var prefix = prefixes[i];
      if (typeof subject === "string" && subject.indexOf(prefix) === 0) {
        var action = subject.slice(prefix.length);
        if (ACTIONS.indexOf(action) !== -1) {
          return { prefix: prefix, action: action };
        }
      }
    }
    return null;
  }

  function reply(event, message) {
    event.source.postMessage(message, event.origin);
  }

  function error(event, data, code, text) {
    reply(event, {
      subject: data.subject + ".response",
      message_id: data.message_id,
      error: { code: code, message: text }
    });
  }

  function putData(event, data) {
    if (typeof data.key !== "string" || !data.key || data.key.length > MAX_KEY_LENGTH ||
        typeof data.value !== "string" || data.value.length > MAX_VALUE_LENGTH) {
      error(event, data, "bad_request", "key and value must be short strings");
      return;
    }
    if (values.size >= MAX_ENTRIES) {
      values.delete(values.keys().next().value);
    }
    values.set(event.origin + " " + data.key, data.value);
    reply(event, {
      subject: data.subject + ".response",
      message_id: data.message_id,
      key: data.key,
      value: data.value
    });
  }

  function getData(event, data) {
    var stored = values.get(event.origin + " " + data.key);
    if (stored === undefined) {
      error(event, data, "not_found", "no value is stored under this key");
      return;
    }
    reply(event, {
      subject: data.subject + ".response",
      message_id: data.message_id,
      key: data.key,
      value: stored
    });
  }

  function capabilities(event, data, prefix) {
    reply(event, {
      subject: data.subject + ".response",
      message_id: data.message_id,
      supported_messages: [
        { subject: prefix + "put_data" },
        { subject: prefix + "get_data" }
      ]
    });
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!toolOrigin || event.origin !== toolOrigin || !event.source) {
      return;
    }
    if (!data || typeof data !== "object" || typeof data.message_id !== "string") {
      return;
    }
    var subject = splitSubject(data.subject);
    if (!subject) {
      return;
    }
    if (subject.action === "put_data") {
      putData(event, data);
    } else if (subject.action === "get_data") {
      getData(event, data);
    } else {
      capabilities(event, data, subject.prefix);
    }
  });
})();
