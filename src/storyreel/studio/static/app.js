// storyreel studio: the page. Plain ES modules, no build step; the waveform is wavesurfer.js (vendored, BSD-3).
// Everything it shows comes from the server's JSON (/api/plan, /api/song); every edit goes back as a
// storyboard location and value, and the server re-plans with the pipeline's own planner.
import WaveSurfer from './vendor/wavesurfer/wavesurfer.esm.js'
import RegionsPlugin from './vendor/wavesurfer/regions.esm.js'

const $ = (sel) => document.querySelector(sel)
const S = { plan: null, song: null, selected: null, ws: null, regions: null, loopRegion: null, lastSeq: 0 }
window.studio = S // for tests and the curious: the page's state

async function api(path, body) {
  const opts = body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }
  const res = await fetch(path, opts)
  let data = null
  try { data = await res.json() } catch (e) { data = null }
  return { ok: res.ok, status: res.status, data }
}

const pct = (t) => `${(100 * t / S.song.duration).toFixed(4)}%`
const fmt = (t) => `${Math.floor(t / 60)}:${(t % 60).toFixed(1).padStart(4, '0')}`

function banner(message, kind = 'error') {
  const b = $('#banner')
  b.hidden = !message
  b.textContent = message || ''
  b.className = 'banner ' + (kind === 'info' ? 'info' : '')
  b.dataset.kind = message ? kind : ''
}

// ------------------------------------------------------------------ the song

function drawSong() {
  const song = S.song
  $('#tempo').textContent = `${song.tempo} BPM, ${song.time_signature || song.beats_per_bar + "/4"}, ${song.beats.length} beats, ${song.downbeats.length} bars`
  const c = song.confidence
  const conf = $('#confidence')
  conf.replaceChildren('analysis confidence: ')
  if (!c) conf.append('not reported')
  for (const [k, v] of Object.entries(c || {})) {
    const span = document.createElement('span')
    span.className = 'conf' + (v < 0.5 ? ' unsure' : '')
    span.dataset.conf = k
    span.textContent = `${k} ${v.toFixed(2)}` + (v < 0.5 && song.overrides[k] ? ` (unsure: set ${song.overrides[k].replace(/_/g, ' ')})` : '')
    conf.append(span, ' ')
  }
  const grid = $('#grid')
  grid.replaceChildren()
  const downs = new Set(song.downbeats.map((d) => d.toFixed(3)))
  let bar = 0
  for (const b of song.beats) {
    const line = document.createElement('div')
    const isDown = downs.has(b.toFixed(3))
    line.className = 'beat' + (isDown ? ' down' : '')
    line.style.left = pct(b)
    line.dataset.time = b
    grid.appendChild(line)
    if (isDown) {
      bar += 1
      if (song.downbeats.length <= 48 || bar % 4 === 1) {
        const n = document.createElement('span')
        n.className = 'bar-number'
        n.style.left = pct(b)
        n.textContent = bar
        grid.appendChild(n)
      }
    }
  }
  const secs = $('#sections')
  secs.replaceChildren()
  for (const s of song.sections) {
    const d = document.createElement('div')
    d.className = 'section'
    d.style.left = pct(s.start)
    d.style.width = pct(s.end - s.start)
    const light = 35 + 40 * s.energy
    d.style.background = `hsl(${200 - 160 * s.energy}, 60%, ${light}%)`
    d.textContent = `${s.name || s.label} · energy ${s.energy.toFixed(2)}`
    d.title = `${s.label} ${fmt(s.start)}–${fmt(s.end)}`
    secs.appendChild(d)
  }
}

function makeWave() {
  const regions = RegionsPlugin.create()
  const ws = WaveSurfer.create({
    container: '#wave', height: 96, waveColor: '#5b6b8a', progressColor: '#f0b43c', cursorColor: '#fff',
    url: '/api/song/audio', peaks: [S.song.peaks], duration: S.song.duration, plugins: [regions], dragToSeek: true,
  })
  regions.enableDragSelection({ color: 'rgba(240,180,60,0.18)' })
  regions.on('region-created', (r) => {
    if (S.loopRegion && S.loopRegion !== r) S.loopRegion.remove()
    S.loopRegion = r
  })
  regions.on('region-out', (r) => { if (r === S.loopRegion && $('#loop').checked) r.play() })
  ws.on('timeupdate', (t) => {
    $('#clock').textContent = fmt(t)
    $('#playhead').style.left = pct(t)
    syncVideo(t)
  })
  ws.on('play', () => { $('#play').textContent = 'Pause'; const v = $('#animatic'); if (!v.hidden) v.play().catch(() => {}) })
  ws.on('pause', () => { $('#play').textContent = 'Play'; $('#animatic').pause() })
  S.ws = ws
  S.regions = regions
}

function syncVideo(t) {
  const v = $('#animatic')
  if (v.hidden || !v.duration) return
  if (Math.abs(v.currentTime - t) > 0.15) v.currentTime = Math.min(t, v.duration)
}

function drawCorrections() {
  const form = $('#corrections')
  form.replaceChildren()
  const board = S.plan.storyboard || {}
  for (const key of S.plan.correctable) {
    const label = document.createElement('label')
    label.textContent = key.replace(/_/g, ' ') + ' '
    const input = document.createElement('input')
    input.dataset.correct = key
    const v = board[key]
    input.value = v === undefined || v === null ? '' : (Array.isArray(v) ? v.join(', ') : v)
    input.placeholder = 'detected'
    const err = document.createElement('span')
    err.className = 'err'
    label.append(input)
    if (key === 'downbeat_offset' || key === 'section_starts') {
      const here = document.createElement('button')
      here.type = 'button'
      here.dataset.here = key
      here.textContent = key === 'downbeat_offset' ? 'at playhead' : '+ playhead'
      here.title = key === 'downbeat_offset' ? 'the first downbeat is where the playhead is' : 'a section starts where the playhead is'
      here.addEventListener('click', () => {
        const t = Number(S.ws.getCurrentTime().toFixed(3))
        input.value = key === 'downbeat_offset' ? t : [...(input.value ? input.value.split(',').map(Number) : []), t].sort((a, b) => a - b).join(', ')
        input.dispatchEvent(new Event('change'))
      })
      label.append(here)
    }
    label.append(err)
    form.appendChild(label)
    input.addEventListener('change', async () => {
      let value = input.value.trim()
      if (value === '') value = null
      else if (key === 'section_starts') value = value.split(',').map((x) => parseFloat(x))
      else if (!isNaN(Number(value))) value = Number(value)
      await sendEdit(api('/api/correct', { version: S.plan.version, key, value }), err, true)
      await refreshSong()
    })
  }
}

// ------------------------------------------------------------------ the shots

function drawLane() {
  const lane = $('#lane')
  lane.replaceChildren()
  const shots = S.plan.shots
  for (const s of shots) {
    const d = document.createElement('div')
    d.className = 'shot' + (s.index === S.selected ? ' selected' : '') + (s.pending && s.kept == null ? ' pending' : '')
    d.dataset.index = s.index
    d.style.left = pct(s.start)
    d.style.width = pct(s.end - s.start)
    d.title = `${s.index + 1}: ${s.prompt}`
    const kept = s.kept != null ? s.takes.find((t) => t.take === s.kept) : null
    if (kept) {
      const img = document.createElement('img')
      img.src = `/api/thumb/${kept.key}.png`
      img.alt = `shot ${s.index + 1}, take ${kept.take + 1}`
      d.appendChild(img)
    } else {
      const card = document.createElement('div')
      card.className = 'card'
      card.textContent = s.text
      d.appendChild(card)
    }
    const p = document.createElement('div')
    p.className = 'prompt'
    p.textContent = `${s.index + 1}. ${s.text}`
    const m = document.createElement('div')
    m.className = 'meta'
    m.textContent = `${s.section} · bar ${s.start_bar} · ${s.camera.move} · ${s.transition.kind}`
    d.append(p, m)
    d.addEventListener('click', () => select(s.index))
    lane.appendChild(d)
  }
  for (let i = 0; i < shots.length - 1; i++) {
    const h = document.createElement('div')
    h.className = 'handle'
    h.dataset.after = i
    h.style.left = pct(shots[i + 1].start)
    h.addEventListener('mousedown', (ev) => startDrag(ev, i, h))
    lane.appendChild(h)
  }
}

function startDrag(ev, i, handle) {
  ev.preventDefault()
  const lane = $('#lane')
  const rect = lane.getBoundingClientRect()
  const ghost = document.createElement('div')
  ghost.id = 'ghost'
  lane.appendChild(ghost)
  handle.classList.add('dragging')
  let t = S.plan.shots[i + 1].start
  const move = (e) => {
    const x = Math.max(0, Math.min(rect.width, e.clientX - rect.left))
    t = x / rect.width * S.song.duration
    ghost.style.left = `${x}px`
  }
  const up = async () => {
    document.removeEventListener('mousemove', move)
    document.removeEventListener('mouseup', up)
    ghost.remove()
    handle.classList.remove('dragging')
    const r = await api('/api/boundary', { version: S.plan.version, shot: i, time: t, snap: $('#snap').value })
    if (r.ok) { setPlan(r.data); banner(null) } else if (r.status === 409) { banner(r.data.error.message); await refreshPlan() } else banner(r.data.error.message)
  }
  document.addEventListener('mousemove', move)
  document.addEventListener('mouseup', up)
}

function select(i) {
  S.selected = i
  document.querySelectorAll('.shot').forEach((d) => d.classList.toggle('selected', Number(d.dataset.index) === i))
  drawEditor()
}

function fillSelect(sel, words) {
  if (sel.options.length) return
  for (const w of ['', ...words]) {
    const o = document.createElement('option')
    o.value = w
    o.textContent = w || '(default)'
    sel.appendChild(o)
  }
}

function drawEditor(keepInputs = false) {
  const s = S.plan && S.selected != null ? S.plan.shots[S.selected] : null
  $('#shot-fields').hidden = !s
  $('#editor-hint').hidden = !!s
  if (!s) { $('#shot-number').textContent = '-'; return }
  $('#shot-number').textContent = `${s.index + 1} of ${S.plan.shots.length}`
  if (!keepInputs) fillInputs(s)
  $('#shot-facts').textContent = `${fmt(s.start)}–${fmt(s.end)} · ${s.bars} bars from bar ${s.start_bar} · section ${s.section} · seed ${s.seed}` +
    (s.notes.length ? ' · ' + s.notes.join('; ') : '')
  // a model with its own planner says what it understood, so a misread word shows before any generation
  $('#shot-reading').hidden = !s.reads_as
  $('#shot-reading').textContent = s.reads_as ? `${S.plan.model} reads this as: ${s.reads_as}` : ''
  drawTakes(s)
}

function fillInputs(s) {
  const spec = s.spec || {}
  const f = (name) => document.querySelector(`[data-field="${name}"]`)
  fillSelect(f('camera'), S.plan.vocabulary.camera)
  fillSelect(f('transition'), S.plan.vocabulary.transition)
  f('prompt').value = spec.prompt || ''
  f('length').value = spec.length || ''
  const cam = spec.camera
  f('camera').value = cam == null ? '' : (typeof cam === 'string' ? cam : cam.move || '')
  const tr = spec.transition
  f('transition').value = tr == null ? '' : (typeof tr === 'string' ? tr : tr.kind || '')
  f('transition_beats').value = tr && typeof tr === 'object' && tr.beats != null ? tr.beats : ''
  f('seed').value = spec.seed != null ? spec.seed : ''
  f('seed').placeholder = `derived: ${s.seed}`
  document.querySelectorAll('#shot-fields .err').forEach((e) => { e.textContent = '' })
}

function drawTakes(s) {
  const box = $('#takes')
  box.replaceChildren()
  for (const t of s.takes) {
    const d = document.createElement('div')
    d.className = 'take' + (t.take === s.kept ? ' kept' : '')
    d.dataset.take = t.take
    const img = document.createElement('img')
    img.src = `/api/thumb/${t.key}.png`
    const info = document.createElement('div')
    info.textContent = `take ${t.take + 1} · seed ${t.seed} · score ${t.score == null ? '–' : t.score.toFixed(3)}`
    const b = document.createElement('button')
    b.textContent = t.take === s.kept ? 'kept' : 'Keep'
    b.disabled = t.take === s.kept
    b.addEventListener('click', async () => {
      const r = await api('/api/keep', { shot: s.index, take: t.take })
      if (r.ok) setPlan(r.data); else banner(r.data.error.message)
    })
    d.append(img, info, b)
    box.appendChild(d)
  }
}

function shotEdit(name) {
  const s = S.plan.shots[S.selected]
  const loc = s.source
  const el = document.querySelector(`[data-field="${name}"]`)
  const v = el.value.trim()
  if (name === 'prompt') return [{ loc: [...loc, 'prompt'], value: v }]
  if (name === 'length') return [{ loc: [...loc, 'length'], value: v || null }]
  if (name === 'seed') return [{ loc: [...loc, 'seed'], value: v === '' ? null : Number(v) }]
  if (name === 'camera') {
    const cam = (s.spec || {}).camera
    if (!v) return [{ loc: [...loc, 'camera'], value: null }]
    if (cam && typeof cam === 'object') return [{ loc: [...loc, 'camera', 'move'], value: v }]
    return [{ loc: [...loc, 'camera'], value: v }]
  }
  const kind = document.querySelector('[data-field="transition"]').value
  const beats = document.querySelector('[data-field="transition_beats"]').value
  if (!kind) return [{ loc: [...loc, 'transition'], value: null }]
  return [{ loc: [...loc, 'transition'], value: beats === '' ? kind : { kind, beats: Number(beats) } }]
}

async function sendEdit(request, errEl, keepField) {
  const r = await request
  if (r.ok) {
    errEl.textContent = ''
    banner(null)
    setPlan(r.data, keepField)
  } else if (r.status === 409) {
    banner(r.data.error.message)
    await refreshPlan()
  } else {
    errEl.textContent = r.data && r.data.error ? r.data.error.message : `error ${r.status}`
  }
  return r
}

function wireEditor() {
  for (const el of document.querySelectorAll('#shot-fields [data-field]')) {
    el.addEventListener('change', () => {
      const name = el.dataset.field === 'transition_beats' ? 'transition' : el.dataset.field
      const err = el.parentElement.querySelector('.err')
      sendEdit(api('/api/edit', { version: S.plan.version, edits: shotEdit(name) }), err, true)
    })
  }
}

// ------------------------------------------------------------------ storyboard-wide fields

function drawBoard() {
  const sb = S.plan.storyboard || {}
  const style = document.querySelector('[data-board="style"]')
  style.value = sb.style || ''
  style.onchange = () => sendEdit(api('/api/edit', { version: S.plan.version, edits: [{ loc: ['style'], value: style.value || null }] }), style.nextElementSibling, true)
  const chars = $('#characters')
  chars.replaceChildren()
  for (const [name, c] of Object.entries(sb.characters || {})) {
    const label = document.createElement('label')
    label.textContent = `character ${name}`
    const input = document.createElement('input')
    const isText = typeof c === 'string'
    input.value = isText ? c : c.description
    const err = document.createElement('span')
    err.className = 'err'
    input.onchange = () => sendEdit(api('/api/edit', { version: S.plan.version, edits: [{ loc: isText ? ['characters', name] : ['characters', name, 'description'], value: input.value }] }), err, true)
    label.append(input, err)
    chars.appendChild(label)
  }
  const keys = $('#timeline-keys')
  keys.replaceChildren()
  const eraField = (title, loc, value) => {
    const label = document.createElement('label')
    label.textContent = title
    const input = document.createElement('input')
    input.value = value || ''
    input.dataset.loc = JSON.stringify(loc)
    const err = document.createElement('span')
    err.className = 'err'
    input.onchange = () => sendEdit(api('/api/edit', { version: S.plan.version, edits: [{ loc, value: input.value || null }] }), err, true)
    label.append(input, err)
    keys.appendChild(label)
  }
  ;(sb.timeline || []).forEach((k, i) => eraField(`era at ${k.at}`, ['timeline', i, 'era'], k.era))
  ;(sb.sections || []).forEach((sec, i) => eraField(`section ${i + 1} era (${sec.shots.length} shots)`, ['sections', i, 'era'], sec.era))
}

// ------------------------------------------------------------------ plan, outputs, jobs

function setPlan(plan) {
  S.plan = plan
  document.body.dataset.version = plan.version
  $('#title').textContent = plan.title ? `storyreel studio · ${plan.title}` : 'storyreel studio'
  if (plan.error) banner(plan.error.message, 'plan'); else if ($('#banner').dataset.kind === 'plan') banner(null)
  if (S.song) drawLane()
  if (S.selected != null && S.selected >= plan.shots.length) S.selected = null
  const active = document.activeElement
  drawEditor(!!(active && active.closest && active.closest('#shot-fields'))) // keep what is being typed
  drawBoard()
  drawCorrections()
  drawOutputs(plan.jobs || {})
}

async function refreshPlan() {
  const r = await api('/api/plan')
  if (r.ok) setPlan(r.data)
}

// The song's analysis changes with the storyboard's song or its overrides (tempo, meter...): redraw it then.
async function refreshSong() {
  const r = await api('/api/song')
  if (!r.ok) return
  const old = S.song
  const same = old && old.duration === r.data.duration && JSON.stringify(old.beats) === JSON.stringify(r.data.beats) &&
    JSON.stringify(old.sections) === JSON.stringify(r.data.sections) && old.beats_per_bar === r.data.beats_per_bar
  if (same) return
  S.song = r.data
  drawSong()
  if (!old || old.duration !== r.data.duration || JSON.stringify(old.peaks) !== JSON.stringify(r.data.peaks)) {
    if (S.ws) S.ws.destroy()
    makeWave()
  }
  if (S.plan) drawLane()
}

function fileUrl(rel) { return `/api/file?root=project&path=${encodeURIComponent(rel)}&t=${Date.now()}` }

function drawOutputs(out) {
  const v = $('#animatic')
  if (out.animatic && v.dataset.src !== out.animatic + S.animaticSeq) {
    v.dataset.src = out.animatic + S.animaticSeq
    v.src = fileUrl(out.animatic)
    v.hidden = false
  }
  $('#result').hidden = !out.render
  if (out.render) {
    const rv = $('#render-video')
    if (rv.dataset.src !== out.render + S.renderSeq) { rv.dataset.src = out.render + S.renderSeq; rv.src = fileUrl(out.render) }
    if (out.contact_sheet) $('#contact-sheet').src = fileUrl(out.contact_sheet)
    const links = [['MP4', out.render], ['OTIO', out.otio], ['manifest', out.manifest]].filter(([, p]) => p)
    $('#downloads').replaceChildren(...links.map(([name, p]) => {
      const a = document.createElement('a')
      a.href = fileUrl(p)
      a.download = p.split('/').pop()
      a.textContent = `download ${name}`
      a.style.marginRight = '12px'
      return a
    }))
  }
}

function showJob(ev) {
  const box = $('#jobs')
  let el = box.querySelector(`[data-job="${ev.id}"]`)
  if (!el) { el = document.createElement('div'); el.className = 'job'; el.dataset.job = ev.id; box.prepend(el) }
  el.dataset.state = ev.state
  el.classList.toggle('failed', ev.state === 'failed')
  const stages = Object.entries(ev.stages || {}).map(([task, st]) => {
    const share = st.total ? ` ${Math.round(100 * st.done / st.total)}%` : ''
    return `${task}${share}${st.eta != null && ev.state === 'running' ? ` ETA ${Math.round(st.eta)}s` : ''}`
  })
  el.textContent = `${ev.label}: ${ev.state}${stages.length ? ' · ' + stages.join(' · ') : ''}${ev.error ? ' · ' + ev.error : ''}`
  while (box.children.length > 4) box.lastChild.remove()
}

function listen() {
  const es = new EventSource(`/api/events?after=${S.lastSeq}`)
  es.onmessage = async (m) => {
    const ev = JSON.parse(m.data)
    S.lastSeq = ev.seq
    if (ev.type === 'job') {
      showJob(ev)
      if (ev.state === 'done' || ev.state === 'failed' || ev.stage === 'generation') {
        if (ev.kind === 'animatic') S.animaticSeq = ev.seq
        if (ev.kind === 'render') S.renderSeq = ev.seq
        await refreshPlan()
      }
    } else if (ev.type === 'storyboard') {
      banner('the storyboard file changed on disk: the page now shows it', 'info')
      clearTimeout(S.infoTimer)
      S.infoTimer = setTimeout(() => { if ($('#banner').classList.contains('info')) banner(null) }, 6000)
      await refreshPlan()
      await refreshSong()
    }
  }
}

// ------------------------------------------------------------------ buttons

function wireButtons() {
  $('#play').addEventListener('click', () => S.ws.playPause())
  $('#animatic-btn').addEventListener('click', () => api('/api/animatic', {}))
  $('#render-btn').addEventListener('click', () => api('/api/render', {}))
  $('#generate-all').addEventListener('click', () => api('/api/generate', { shots: 'all' }))
  $('#generate-one').addEventListener('click', () => api('/api/generate', { shots: [S.selected] }))
  $('#generate-range').addEventListener('click', async () => {
    const text = prompt('Shots to generate, e.g. 3-7', `${S.selected + 1}-${S.plan.shots.length}`)
    const m = text && text.match(/^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/)
    if (!m) return
    const a = Number(m[1]) - 1, b = Number(m[2] || m[1]) - 1
    const shots = []
    for (let i = Math.min(a, b); i <= Math.max(a, b); i++) shots.push(i)
    const r = await api('/api/generate', { shots })
    if (!r.ok) banner(r.data.error.message)
  })
  $('#reroll').addEventListener('click', () => api('/api/reroll', { shot: S.selected }))
  document.addEventListener('keydown', (e) => {
    if (e.code === 'Space' && !e.target.closest('input, textarea, select, button')) { e.preventDefault(); S.ws.playPause() }
  })
}

async function main() {
  S.animaticSeq = 0
  S.renderSeq = 0
  wireButtons()
  wireEditor()
  const [plan, song] = await Promise.all([api('/api/plan'), api('/api/song')])
  if (song.ok) {
    S.song = song.data
    drawSong()
    makeWave()
  } else {
    banner(song.data.error.message, 'plan')
  }
  setPlan(plan.data)
  S.lastSeq = 0
  listen()
  document.body.dataset.ready = '1'
}

main()
