/* leadroi page snippet: one pageview per load, and leadroi.identify() for forms.
 *
 *   <script async src="https://track.example.com/t.js"></script>
 *   leadroi.identify({email: form.email.value, form: "demo"});
 *
 * Events go as text/plain JSON through navigator.sendBeacon, which needs no
 * CORS preflight and survives the page being left.
 */
(function (window, document) {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var endpoint = base + "/t/beacon";
  var cookieName = "lr_vid";
  var yearS = 365 * 24 * 3600;

  function newId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID().replace(/-/g, "");
    }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // First-party cookie on the page's own site, refreshed on every load.
  function visitorId() {
    var found = document.cookie.match(/(?:^|;\s*)lr_vid=([A-Za-z0-9_.-]{1,64})/);
    var id = found ? found[1] : newId();
    document.cookie = cookieName + "=" + id + "; Max-Age=" + yearS +
      "; Path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
    return id;
  }

  function send(event) {
    event.visitor_id = vid;
    event.occurred_at = new Date().toISOString();
    var body = JSON.stringify(event);
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) {
      return;
    }
    fetch(endpoint, {method: "POST", body: body, keepalive: true, mode: "no-cors"});
  }

  var vid = visitorId();
  var page = {type: "touch", touch_kind: "pageview", url: location.href};
  if (document.referrer) {
    page.referrer = document.referrer;
  }
  send(page);

  window.leadroi = {
    visitorId: vid,
    // fields: email, phone, lead_id, promo_code, self_reported_source, form
    identify: function (fields) {
      var event = {type: "identify"};
      for (var key in fields) {
        if (Object.prototype.hasOwnProperty.call(fields, key) && fields[key]) {
          event[key] = String(fields[key]);
        }
      }
      send(event);
    }
  };
})(window, document);
