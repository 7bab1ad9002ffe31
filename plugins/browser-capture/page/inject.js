// mediagw browser-capture: evaluated in the page before any of its own
// scripts (Page.addScriptToEvaluateOnNewDocument), top frame only.
//
// Input: getUserMedia / enumerateDevices answer with tracks received from the
// gateway over a local RTCPeerConnection (the node's webrtcbin offers, this
// page answers). Output: what goes back on that connection's senders, the
// page's own tab capture ("tab") or the room's remote tracks mixed here
// ("peers"). Signalling runs over the DevTools channel: this script calls a
// binding (page -> node), the node evaluates __mgw.* (node -> page).
// __MGW_CONFIG__ is replaced by the node: {binding, display, width, height,
// fps, input, output, layout}.
(() => {
  'use strict';
  const CFG = __MGW_CONFIG__;
  // The binding (its name is random per gateway) exists in every frame of
  // the tab: keep our reference and take it off the global object before any
  // of the page's scripts (an iframe's included) can call it.
  const binding = window[CFG.binding];
  try { delete window[CFG.binding]; } catch (e) { /* not configurable: keep going */ }
  if (window.top !== window || window.__mgw || typeof binding !== 'function') return;
  const send = msg => { try { binding(JSON.stringify(msg)); } catch (e) { /* pipe gone */ } };

  const OrigPC = window.RTCPeerConnection;
  const md = MediaDevices.prototype;
  const origGUM = md.getUserMedia, origEnum = md.enumerateDevices, origGDM = md.getDisplayMedia;
  const MIC_ID = 'mediagw-microphone', CAM_ID = 'mediagw-camera';

  // ---- the local session with the gateway ----
  let pc = null, audioSender = null, videoSender = null, audioIn = null, videoIn = null;
  let readyResolve;
  let ready = new Promise(r => { readyResolve = r; });
  const keepPlaying = []; // remote audio is only pulled while something renders it

  const gathered = p => new Promise(resolve => {
    const check = () => { if (p.iceGatheringState === 'complete') resolve(); };
    p.addEventListener('icegatheringstatechange', check);
    check();
    setTimeout(resolve, 3000); // a host candidate is all this local session needs
  });

  async function offer(sdp) {
    if (pc) { try { pc.close(); } catch (e) { } }
    pc = new OrigPC({ iceServers: [], bundlePolicy: 'max-bundle' });
    const mine = pc;
    pc.addEventListener('connectionstatechange', () => {
      if (mine === pc) send({ t: 'state', state: mine.connectionState });
    });
    await pc.setRemoteDescription({ type: 'offer', sdp });
    for (const tr of pc.getTransceivers()) {
      tr.direction = 'sendrecv';
      const kind = tr.receiver.track.kind;
      if (kind === 'audio') { audioSender = tr.sender; audioIn = tr.receiver.track; }
      if (kind === 'video') { videoSender = tr.sender; videoIn = tr.receiver.track; }
    }
    if (audioIn) {
      const el = new Audio();
      el.muted = true;
      el.srcObject = new MediaStream([audioIn]);
      el.play().catch(() => { });
      keepPlaying.push(el);
    }
    readyResolve();
    await attachOutput();
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    if (mine !== pc) return;
    send({ t: 'answer', sdp: pc.localDescription.sdp });
  }

  // ---- input: the caller as camera and microphone ----
  function labelled(track) {
    const audio = track.kind === 'audio';
    const id = audio ? MIC_ID : CAM_ID;
    const label = CFG.display + (audio ? ' (microphone)' : ' (camera)');
    Object.defineProperty(track, 'label', { get: () => label, configurable: true });
    const settings = track.getSettings.bind(track);
    track.getSettings = () => Object.assign(settings(), { deviceId: id, groupId: 'mediagw' },
      audio ? {} : { width: CFG.width, height: CFG.height, frameRate: CFG.fps });
    const caps = track.getCapabilities ? track.getCapabilities.bind(track) : () => ({});
    track.getCapabilities = () => Object.assign(caps(), { deviceId: id, groupId: 'mediagw' });
    track.applyConstraints = async () => { }; // the caller's media is what it is
    const clone = track.clone.bind(track);
    track.clone = () => labelled(clone());
    return track;
  }

  function device(kind, deviceId, label) {
    const d = { deviceId, kind, label, groupId: 'mediagw' };
    d.toJSON = () => ({ deviceId, kind, label, groupId: 'mediagw' });
    return d;
  }

  async function gatewayMedia(constraints) {
    const c = constraints || {};
    const timeout = new Promise((_, reject) => setTimeout(
      () => reject(new DOMException('the gateway media did not arrive', 'NotReadableError')), 15000));
    await Promise.race([ready, timeout]);
    const tracks = [];
    if (c.audio && audioIn) tracks.push(labelled(audioIn.clone()));
    if (c.video && videoIn) tracks.push(labelled(videoIn.clone()));
    if (!tracks.length) throw new DOMException('Requested device not found', 'NotFoundError');
    send({ t: 'media', audio: !!c.audio, video: !!c.video });
    return new MediaStream(tracks);
  }

  if (CFG.input === 'inject') {
    md.getUserMedia = function (constraints) { return gatewayMedia(constraints); };
    md.enumerateDevices = async function () {
      return [device('audioinput', MIC_ID, CFG.display + ' (microphone)'),
        device('videoinput', CAM_ID, CFG.display + ' (camera)'),
        device('audiooutput', 'default', 'Default')];
    };
    const legacy = function (c, ok, err) { gatewayMedia(c).then(ok, err); };
    for (const name of ['getUserMedia', 'webkitGetUserMedia'])
      if (navigator[name]) navigator[name] = legacy;
    if (navigator.permissions && navigator.permissions.query) {
      const query = navigator.permissions.query.bind(navigator.permissions);
      navigator.permissions.query = d => (d && (d.name === 'camera' || d.name === 'microphone'))
        ? Promise.resolve({ state: 'granted', status: 'granted', name: d.name, onchange: null,
          addEventListener() { }, removeEventListener() { } })
        : query(d);
    }
  }

  // ---- output "peers": the room's remote tracks, mixed and laid out here ----
  const peers = { ctx: null, dest: null, canvas: null, g: null, videos: new Map(), levels: new Map(), timer: 0 };
  function addRemote(track, streams) {
    if (CFG.output !== 'peers') return;
    const key = streams && streams[0] ? streams[0].id : track.id;
    if (track.kind === 'audio') {
      if (!peers.ctx) return; // output not started yet: remembered below
      const el = new Audio();
      el.muted = true;
      el.srcObject = new MediaStream([track]);
      el.play().catch(() => { });
      const src = peers.ctx.createMediaStreamSource(new MediaStream([track]));
      const an = peers.ctx.createAnalyser();
      an.fftSize = 512;
      src.connect(an);
      src.connect(peers.dest);
      peers.levels.set(key, { an, el, src, bins: new Float32Array(an.fftSize) });
      track.addEventListener('ended', () => { src.disconnect(); peers.levels.delete(key); });
    } else {
      const v = document.createElement('video');
      v.muted = true;
      v.playsInline = true;
      v.srcObject = new MediaStream([track]);
      v.play().catch(() => { });
      peers.videos.set(key, { v, track, since: performance.now() });
      track.addEventListener('ended', () => peers.videos.delete(key));
    }
  }
  const pending = [];
  class PC extends OrigPC {
    constructor(...args) {
      super(...args);
      this.addEventListener('track', e => {
        if (peers.ctx) addRemote(e.track, e.streams); else pending.push([e.track, e.streams]);
      });
    }
  }
  if (CFG.output === 'peers') {
    window.RTCPeerConnection = PC;
    if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = PC;
  }

  function level(entry) {
    entry.an.getFloatTimeDomainData(entry.bins);
    let sum = 0;
    for (const x of entry.bins) sum += x * x;
    return Math.sqrt(sum / entry.bins.length);
  }

  function drawPeers() {
    const { g, canvas } = peers;
    g.fillStyle = 'black';
    g.fillRect(0, 0, canvas.width, canvas.height);
    const live = [...peers.videos.entries()].filter(([, p]) => p.track.readyState === 'live' && p.v.videoWidth);
    if (!live.length) return;
    let shown = live;
    if (CFG.layout !== 'grid') {
      let best = live[live.length - 1], loudest = 0.01; // silence: the newest
      for (const entry of live) {
        const l = peers.levels.get(entry[0]);
        const value = l ? level(l) : 0;
        if (value > loudest) { loudest = value; best = entry; }
      }
      shown = [best];
    }
    const cols = Math.ceil(Math.sqrt(shown.length)), rows = Math.ceil(shown.length / cols);
    const w = canvas.width / cols, h = canvas.height / rows;
    shown.forEach(([, p], i) => {
      const scale = Math.min(w / p.v.videoWidth, h / p.v.videoHeight);
      const dw = p.v.videoWidth * scale, dh = p.v.videoHeight * scale;
      g.drawImage(p.v, (i % cols) * w + (w - dw) / 2, Math.floor(i / cols) * h + (h - dh) / 2, dw, dh);
    });
  }

  function startPeers() {
    peers.ctx = new AudioContext({ sampleRate: 48000 });
    peers.ctx.resume().catch(() => { });
    peers.dest = peers.ctx.createMediaStreamDestination();
    peers.canvas = document.createElement('canvas');
    peers.canvas.width = CFG.width;
    peers.canvas.height = CFG.height;
    peers.g = peers.canvas.getContext('2d');
    for (const [t, s] of pending.splice(0)) addRemote(t, s);
    peers.timer = setInterval(drawPeers, 1000 / CFG.fps);
    return { audio: peers.dest.stream.getAudioTracks()[0], video: peers.canvas.captureStream(CFG.fps).getVideoTracks()[0] };
  }

  // ---- output: what goes back to the caller ----
  let out = null;
  async function attachOutput() {
    if (!out || !pc) return;
    if (audioSender) await audioSender.replaceTrack(out.audio || null);
    if (videoSender) {
      await videoSender.replaceTrack(out.video || null);
      const p = videoSender.getParameters();
      p.degradationPreference = 'maintain-resolution'; // else Chromium halves a canvas' size
      await videoSender.setParameters(p).catch(e => send({ t: 'error', where: 'video sender', message: String(e) }));
    }
  }

  async function startOutput() {
    if (out) return { audio: !!out.audio, video: !!out.video };
    if (CFG.output === 'tab') {
      const s = await origGDM.call(navigator.mediaDevices, {
        video: { width: CFG.width, height: CFG.height, frameRate: CFG.fps },
        // The room as the page plays it: no voice processing on top.
        audio: { echoCancellation: false, autoGainControl: false, noiseSuppression: false },
        preferCurrentTab: true, selfBrowserSurface: 'include', systemAudio: 'exclude',
        surfaceSwitching: 'exclude'
      });
      out = { audio: s.getAudioTracks()[0] || null, video: s.getVideoTracks()[0] || null };
    } else if (CFG.output === 'peers') {
      out = startPeers();
    } else {
      return { audio: false, video: false };
    }
    await attachOutput();
    const v = out.video ? out.video.getSettings() : {};
    return { audio: !!out.audio, video: !!out.video, width: v.width || 0, height: v.height || 0 };
  }

  function stopOutput() {
    if (!out) return;
    for (const t of [out.audio, out.video]) if (t) t.stop();
    if (peers.timer) clearInterval(peers.timer);
    if (peers.ctx) peers.ctx.close();
    out = null;
  }

  Object.defineProperty(window, '__mgw', {
    value: Object.freeze({
      offer: sdp => offer(sdp).catch(e => send({ t: 'error', where: 'offer', message: String(e) })),
      startOutput,
      stopOutput,
      remoteCount: () => peers.videos.size,
      // What the local session carries each way (for the node's log).
      stats: async () => {
        const r = { sent: {}, received: {} };
        if (!pc) return r;
        for (const s of (await pc.getStats()).values()) {
          if (s.type === 'outbound-rtp') r.sent[s.kind] = { packets: s.packetsSent, width: s.frameWidth,
            height: s.frameHeight, fps: s.framesPerSecond, limited: s.qualityLimitationReason };
          if (s.type === 'inbound-rtp') r.received[s.kind] = { packets: s.packetsReceived, width: s.frameWidth,
            height: s.frameHeight, fps: s.framesPerSecond };
        }
        r.state = pc.connectionState;
        r.transceivers = pc.getTransceivers().map(t => [t.mid, t.currentDirection, t.receiver.track.readyState,
          t.receiver.track.muted, t.sender.track ? t.sender.track.readyState : null]);
        r.degradation = videoSender ? videoSender.getParameters().degradationPreference : null;
        r.viewport = [innerWidth, innerHeight];
        return r;
      },
    }),
    enumerable: false,
  });
  send({ t: 'hello' });
})();
