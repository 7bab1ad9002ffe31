// A dependency-free page: plays the caller and sends the camera and
// microphone on one sendrecv connection (POST /session, non-trickle: one ICE
// agent and one DTLS session per browser, where WHIP + WHEP would take two).
// `window.mgw` is its small API, used by the tests: state, the connection
// (pc), the streams, leave().
//   ?send=0     watch only (no camera/microphone)
//   ?token=T    bearer token, when the node has one
#include "serve/page.hpp"

namespace webrtcdirect {

const std::string &page_html()
{
    static const std::string html = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mediagw: SIP call</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:0;padding:1em}
 h1{font-size:1.1em;font-weight:600;margin:0 0 .6em}
 #caller{width:100%;max-width:960px;max-height:70vh;background:#000;aspect-ratio:16/9;display:block}
 #self{width:200px;background:#000;aspect-ratio:4/3;position:fixed;right:1em;bottom:1em;border:1px solid #444}
 #status{margin:.6em 0;color:#9cf} button{font-size:1em;padding:.3em 1em}
</style></head><body>
<h1>mediagw &mdash; SIP caller</h1>
<video id="caller" autoplay playsinline></video>
<video id="self" autoplay playsinline muted></video>
<div id="status">connecting&hellip;</div>
<button id="leave">Leave</button>
<script>
"use strict";
const qs = new URLSearchParams(location.search);
const participant = Math.random().toString(36).slice(2, 10);
const mgw = window.mgw = { state: "connecting", participant, pc: null, callerStream: null, localStream: null,
                           resources: [], call: null, error: null };
const say = (text) => { document.getElementById("status").textContent = text; };

function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
    setTimeout(resolve, 3000); // enough host candidates by then
  });
}

// Non-trickle, as WHIP/WHEP: POST the offer with its candidates, apply the answer.
async function negotiate(pc, endpoint) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { "Content-Type": "application/sdp" };
  if (qs.get("token")) headers.Authorization = `Bearer ${qs.get("token")}`;
  const r = await fetch(`/${endpoint}?participant=${participant}`, {
    method: "POST", headers, body: pc.localDescription.sdp });
  if (r.status !== 201) throw new Error(`${endpoint}: HTTP ${r.status} ${await r.text()}`);
  mgw.resources.push(new URL(r.headers.get("Location"), location.href).href);
  await pc.setRemoteDescription({ type: "answer", sdp: await r.text() });
}

// The camera and microphone, or the microphone alone, or nothing (watch only).
async function local_media() {
  try { return await navigator.mediaDevices.getUserMedia({ audio: true, video: true }); }
  catch (e) { try { return await navigator.mediaDevices.getUserMedia({ audio: true }); } catch (e2) { return null; } }
}

// One connection: an audio and a video m-line, each sendrecv when we have
// that track, else recvonly.
async function join() {
  const media = qs.get("send") !== "0" ? await local_media() : null;
  if (media) {
    mgw.localStream = media;
    document.getElementById("self").srcObject = media;
  }
  const pc = mgw.pc = new RTCPeerConnection();
  for (const kind of ["audio", "video"]) {
    const track = media && media.getTracks().find((t) => t.kind === kind);
    if (track) pc.addTransceiver(track, { direction: "sendrecv", streams: [media] });
    else pc.addTransceiver(kind, { direction: "recvonly" });
  }
  const stream = mgw.callerStream = new MediaStream();
  pc.ontrack = (e) => { stream.addTrack(e.track); document.getElementById("caller").srcObject = stream; };
  pc.onconnectionstatechange = () => { if (pc.connectionState === "failed") fail("connection to the caller failed"); };
  await negotiate(pc, "session");
}

function fail(why) { mgw.state = "failed"; mgw.error = why; say(why); }

async function poll() {
  try {
    const auth = qs.get("token") ? { Authorization: `Bearer ${qs.get("token")}` } : {};
    const s = await (await fetch("/status", { cache: "no-store", headers: auth })).json();
    mgw.call = s.call;
    if (mgw.state !== "failed" && mgw.state !== "left")
      say(s.call === "active" ? `in call with ${s.caller || "the caller"} \u2014 ${s.participants} in this room`
                              : "the call ended");
    if (s.call !== "active" && mgw.state === "joined") mgw.state = "ended";
  } catch (e) {
    if (mgw.state === "joined" || mgw.state === "connecting") { mgw.state = "ended"; mgw.call = "ended"; say("the call ended"); }
  }
}

async function leave() {
  mgw.state = "left";
  const auth = qs.get("token") ? { Authorization: `Bearer ${qs.get("token")}` } : {};
  for (const url of mgw.resources) fetch(url, { method: "DELETE", keepalive: true, headers: auth }).catch(() => {});
  mgw.resources = [];
  if (mgw.pc) mgw.pc.close();
  if (mgw.localStream) mgw.localStream.getTracks().forEach((t) => t.stop());
  say("you left");
}
mgw.leave = leave;
document.getElementById("leave").onclick = leave;
window.addEventListener("pagehide", leave);

(async () => {
  try {
    await join();
    mgw.state = "joined";
  } catch (e) { fail(String(e.message || e)); }
  poll();
  setInterval(poll, 1000);
})();
</script></body></html>
)HTML";
    return html;
}

} // namespace webrtcdirect
