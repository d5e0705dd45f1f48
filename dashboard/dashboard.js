/* global document, window, location, history, Element, fetch, URLSearchParams, setTimeout, clearTimeout */
// The operator dashboard: plain DOM, no framework, no build. Everything shown comes from producers (job types,
// errors, descriptions), so it is only ever set as text (`textContent`, text nodes), never parsed as markup.
(function () {
  'use strict';

  const statuses = ['Queued', 'Running', 'Retrying', 'Completed', 'DeadLettered', 'Cancelled'];
  const query = new URLSearchParams(location.search);
  // The function key the page was opened with (`?code=`): sent as a header on every call, never written anywhere.
  const key = query.get('code');
  const intervalMs = Math.max(1, Number(query.get('interval')) || 5) * 1000;
  // A listing of the dead-letter queue peeks every message in it and reads each one's job: not every few seconds.
  const deadLetterIntervalMs = Math.max(intervalMs, 30_000);
  // `/api/dashboard` → `/api`, whatever the host's route prefix.
  const apiBase = location.pathname.replace(/\/dashboard\/?$/, '');
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  const state = {
    paused: false,
    timer: undefined,
    /** 'unknown' until the dead-letter API answers; 'admin' or 'read-only' after. */
    access: 'unknown',
    /** The job shown in the panel (`#/jobs/<jobId>`), and the control focus goes back to when it closes. */
    selectedJobId: undefined,
    opener: undefined,
    /** The view under the panel ('overview', 'jobs' or 'deadletters') and its address, set from the address. */
    view: undefined,
    viewAddress: undefined,
    /** The address last applied: a `hashchange` for it (after `navigate`) changes nothing. */
    appliedAddress: undefined,
    filters: { status: '', jobType: '', id: '' },
    deadLetterFilter: { reason: '', jobType: '' },
    deadLetterListing: undefined,
    deadLetters: [],
    /** What each container shows now, as JSON: unchanged data is not rendered again. */
    rendered: new WeakMap(),
    lastSuccess: undefined,
    deadLettersReadAt: 0,
  };

  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers: text only -------------------------------------------------------------------------------

  /** An element with attributes and children; strings become text nodes. */
  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'onclick') element.addEventListener('click', value);
      else element.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      element.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
    }
    return element;
  }

  /** A button; `focus` keeps keyboard focus on it across refreshes, `label` is what a screen reader announces. */
  function button(text, { focus, label, onclick, className }) {
    return el(
      'button',
      { type: 'button', class: className, 'data-focus': focus, 'aria-label': label, onclick },
      text,
    );
  }

  /** The short id of a job, as a link to the job's address (which opens it in the panel). */
  function jobLink(jobId, focus) {
    return el(
      'a',
      { href: jobAddress(jobId), class: 'mono', 'data-focus': focus, 'aria-label': `Show job ${jobId}` },
      shortId(jobId),
    );
  }

  function svg(tag, attributes, ...children) {
    const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, String(value));
    for (const child of children) element.append(child);
    return element;
  }

  /**
   * Replaces a container's children unless `data` is what it already shows, keeping keyboard focus on the control
   * with the same `data-focus` key: a refresh never moves the operator's place.
   */
  function render(container, data, build) {
    const signature = JSON.stringify(data);
    if (state.rendered.get(container) === signature) return;
    state.rendered.set(container, signature);
    const focused = document.activeElement;
    const focusKey = focused && container.contains(focused) ? focused.getAttribute('data-focus') : null;
    container.replaceChildren(...build());
    if (focusKey) {
      const again = [...container.querySelectorAll('[data-focus]')].find(
        (candidate) => candidate.getAttribute('data-focus') === focusKey,
      );
      if (again) again.focus();
    }
  }

  function time(iso) {
    if (!iso) return '—';
    const date = new Date(iso);
    return Number.isNaN(date.getTime())
      ? String(iso)
      : date.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  }

  function shortId(id) {
    return typeof id === 'string' && id.length > 13 ? id.slice(0, 8) + '…' : String(id);
  }

  // ---- API --------------------------------------------------------------------------------------------------

  /** One call to the job API: `{ status, body }`; status 0 when the app could not be reached. */
  async function api(path, { method = 'GET', body } = {}) {
    const headers = { Accept: 'application/json' };
    if (key) headers['x-functions-key'] = key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const response = await fetch(apiBase + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
      });
      const type = response.headers.get('content-type') || '';
      const parsed = type.includes('json') ? await response.json().catch(() => null) : null;
      return { status: response.status, body: parsed };
    } catch {
      return { status: 0, body: null };
    }
  }

  /** A problem document (or any failed answer) as one line of text, with its field errors. */
  function problemText(answer) {
    const body = answer.body || {};
    const parts = [
      answer.status > 0 ? `HTTP ${answer.status}` : answer.status === 0 ? 'unreachable' : 'page error',
    ];
    if (body.title) parts.push(body.title);
    if (body.detail) parts.push(body.detail);
    const errors = Array.isArray(body.errors)
      ? body.errors.map((error) => `${error.field || '(body)'}: ${error.message}`)
      : [];
    return parts.join(' — ') + (errors.length ? ` [${errors.join('; ')}]` : '');
  }

  // ---- Addresses ----------------------------------------------------------------------------------------------
  // Each view has an address in the fragment, beside the key in `?code=`, so an operator can send a link, and the
  // browser's back and forward buttons move between views:
  //   #/jobs?status=&jobType=&id=       the job list, filtered (`id`: any part of a job id)
  //   #/jobs/<jobId>                     a job, in a panel over the view it was opened from
  //   #/deadletters?reason=&jobType=     the dead-letter queue, its messages narrowed to a reason and job type
  //   no fragment, or #/                 the overview
  // Everything not named in the address is unfiltered.

  function parseAddress(hash) {
    const text = hash.replace(/^#/, '');
    const mark = text.indexOf('?');
    const parts = (mark < 0 ? text : text.slice(0, mark)).split('/').filter(Boolean);
    const params = new URLSearchParams(mark < 0 ? '' : text.slice(mark + 1));
    const param = (name) => (params.get(name) || '').trim();
    if (parts[0] === 'jobs' && parts.length > 1)
      return { view: 'job', jobId: decodePart(parts.slice(1).join('/')) };
    if (parts[0] === 'jobs')
      return {
        view: 'jobs',
        filters: {
          status: statuses.includes(param('status')) ? param('status') : '',
          jobType: param('jobType'),
          id: param('id'),
        },
      };
    if (parts[0] === 'deadletters')
      return {
        view: 'deadletters',
        deadLetterFilter: { reason: param('reason'), jobType: param('jobType') },
      };
    return { view: 'overview' };
  }

  function decodePart(text) {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  }

  function address(path, params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value)).toString();
    return `#/${path}${query ? `?${query}` : ''}`;
  }

  const jobsAddress = ({ status = '', jobType = '', id = '' }) => address('jobs', { status, jobType, id });
  const jobAddress = (jobId) => `#/jobs/${encodeURIComponent(jobId)}`;
  const deadLettersAddress = ({ reason = '', jobType = '' }) => address('deadletters', { reason, jobType });

  /** Goes to `hash` as a new entry in the browser's history (so back returns), and shows it. */
  function navigate(hash) {
    if (hash !== location.hash)
      history.pushState({ from: location.hash }, '', location.pathname + location.search + hash);
    applyAddress();
  }

  const sections = { overview: 'overview', jobs: 'jobs', deadletters: 'dlq' };

  function viewHeading(view) {
    return $(`${sections[view] || 'overview'}-title`);
  }

  /** Shows what the page's address says: a view with its filters, or a job in the panel over the current view. */
  function applyAddress() {
    const hash = location.hash;
    if (hash === state.appliedAddress) return;
    state.appliedAddress = hash;
    const route = parseAddress(hash);
    if (route.view === 'job') {
      void openJob(route.jobId);
      return;
    }
    const first = state.view === undefined;
    const entering = route.view !== state.view;
    state.view = route.view;
    state.viewAddress = hash;
    state.filters = route.filters || { status: '', jobType: '', id: '' };
    state.deadLetterFilter = route.deadLetterFilter || { reason: '', jobType: '' };
    $('filter-status').value = state.filters.status;
    addJobTypes([state.filters.jobType].filter(Boolean));
    $('filter-type').value = state.filters.jobType;
    $('filter-id').value = state.filters.id;
    if (!first) void loadJobs();
    renderDeadLetters();
    const closed = hidePanel();
    // A view the operator goes to is brought into sight, with focus on its heading; not when they are already in
    // it (changing one of its filters), nor for the overview the page opens with. The link that led here may be gone
    // with what it narrowed ("Show all"): then focus goes to the view's heading too, not back to the page's start.
    if (closed || (first && route.view === 'overview')) return;
    const active = document.activeElement;
    const lost = !active || active === document.body;
    if (lost || (entering && !$(sections[route.view]).contains(active))) viewHeading(route.view).focus();
  }

  // ---- Overview -----------------------------------------------------------------------------------------------

  function renderStats(stats) {
    $('overview-window').textContent =
      `${stats.total} job(s) submitted since ${time(stats.submittedSince)}` +
      (stats.truncated ? ' (counted: the newest only; more were submitted)' : '');
    // Older apps answer without `deadLetteredDiscarded`: then nothing is said about discarded jobs.
    const discarded = stats.deadLetteredDiscarded;
    const deadLettered = stats.byStatus.DeadLettered || 0;
    render($('status-counts'), [stats.byStatus, discarded], () =>
      statuses.map((status) => {
        const count = stats.byStatus[status] || 0;
        const discardedHere = status === 'DeadLettered' && discarded > 0 ? discarded : 0;
        return el(
          'li',
          {},
          el(
            'button',
            {
              type: 'button',
              class: `card status-${status}`,
              'data-status': status,
              'data-focus': `card-${status}`,
              'aria-label':
                `${status}: ${count} job(s)` +
                (discardedHere ? `, ${discardedHere} of them discarded` : '') +
                '. Show them.',
              onclick: () => navigate(jobsAddress({ status })),
            },
            el('span', { class: 'count' }, String(count)),
            el('span', { class: 'label' }, status),
            discardedHere ? el('span', { class: 'sub' }, `${discardedHere} discarded`) : null,
          ),
        );
      }),
    );
    $('counts-note').textContent =
      'Cards count jobs by the status on their record.' +
      (discarded === undefined
        ? ''
        : ` A job stays DeadLettered when its message is discarded: ${discarded} of the ${deadLettered} ` +
          'DeadLettered were discarded.') +
      ' The dead-letter queue counts the messages in it now, whenever they were dead-lettered.';
    const types = Object.keys(stats.byJobType).sort();
    const table = $('type-counts');
    render(table.tHead, statuses, () => [
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'Job type'),
        statuses.map((s) => el('th', { scope: 'col' }, s)),
        el('th', { scope: 'col' }, 'Total'),
      ),
    ]);
    render(table.tBodies[0], stats.byJobType, () =>
      types.length === 0
        ? [
            el(
              'tr',
              {},
              el('td', { colspan: statuses.length + 2, class: 'empty' }, 'No jobs in this window.'),
            ),
          ]
        : types.map((type) => {
            const counts = stats.byJobType[type];
            const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
            return el(
              'tr',
              { 'data-job-type': type },
              el('th', { scope: 'row' }, type),
              statuses.map((status) => el('td', { 'data-status': status }, String(counts[status] || 0))),
              el('td', { class: 'total' }, String(total)),
            );
          }),
    );
    addJobTypes(types);
    renderQueueDepth(stats.queue);
    renderChart(stats);
  }

  /** The broker's count of the queue now, beside the records' counts; older apps answer without it. */
  function renderQueueDepth(queue) {
    const line = $('queue-depth');
    line.hidden = !queue;
    if (!queue) return;
    if (queue.unavailable !== undefined) {
      line.dataset.state = 'unavailable';
      line.textContent = `Queue ${queue.name}: its depth could not be read (${queue.unavailable}).`;
      return;
    }
    line.dataset.state = 'read';
    line.dataset.active = String(queue.active);
    line.dataset.scheduled = String(queue.scheduled);
    line.dataset.deadLettered = String(queue.deadLettered);
    line.textContent =
      `Queue ${queue.name} now, as the broker counts it: ${queue.active} active (waiting or running), ` +
      `${queue.scheduled} scheduled (retries in their backoff), ${queue.deadLettered} dead-lettered.`;
  }

  function renderChart(stats) {
    // Older apps answer without `cancelled`: their cancelled attempts are among the failed ones.
    const series = stats.perMinute.map((minute) => ({ ...minute, cancelled: minute.cancelled || 0 }));
    const completed = series.reduce((sum, minute) => sum + minute.completed, 0);
    const failed = series.reduce((sum, minute) => sum + minute.failed, 0);
    const cancelled = series.reduce((sum, minute) => sum + minute.cancelled, 0);
    const totals = `${completed} completed, ${failed} failed, ${cancelled} cancelled`;
    $('chart-note').textContent =
      totals + (stats.perMinuteTruncated ? ' (busiest minutes only in part)' : '');
    render($('chart'), series, () => {
      const width = 1200;
      const height = 180;
      const top = 20;
      const bottom = 22;
      const plot = height - top - bottom;
      const max = Math.max(1, ...series.map((minute) => minute.completed + minute.failed + minute.cancelled));
      const barWidth = width / series.length;
      const chart = svg('svg', {
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
        'aria-label': `Attempts per minute over the last hour: ${totals}; busiest minute ${max}.`,
      });
      chart.append(svg('line', { x1: 0, x2: width, y1: top + plot, y2: top + plot, class: 'axis' }));
      series.forEach((minute, index) => {
        const x = index * barWidth + 1;
        const completedHeight = (minute.completed / max) * plot;
        const failedHeight = (minute.failed / max) * plot;
        const cancelledHeight = (minute.cancelled / max) * plot;
        const label = document.createTextNode(
          `${minute.minute.slice(11, 16)} UTC: ${minute.completed} completed, ${minute.failed} failed, ` +
            `${minute.cancelled} cancelled`,
        );
        const group = svg('g', {}, svg('title', {}, label));
        group.append(
          svg('rect', {
            x,
            width: barWidth - 2,
            y: top + plot - completedHeight,
            height: completedHeight,
            class: 'completed',
          }),
          svg('rect', {
            x,
            width: barWidth - 2,
            y: top + plot - completedHeight - failedHeight,
            height: failedHeight,
            class: 'failed',
          }),
          svg('rect', {
            x,
            width: barWidth - 2,
            y: top + plot - completedHeight - failedHeight - cancelledHeight,
            height: cancelledHeight,
            class: 'cancelled',
          }),
        );
        chart.append(group);
      });
      const text = (x, y, anchor, content) =>
        svg('text', { x, y, 'text-anchor': anchor }, document.createTextNode(content));
      chart.append(
        text(4, 14, 'start', `max ${max}/min`),
        text(4, height - 6, 'start', series.length ? series[0].minute.slice(11, 16) : ''),
        text(
          width - 2,
          height - 4,
          'end',
          series.length ? series[series.length - 1].minute.slice(11, 16) + ' UTC' : '',
        ),
      );
      return [chart];
    });
  }

  async function loadStats() {
    const answer = await api('/jobstats');
    if (answer.status === 200) renderStats(answer.body);
    return answer;
  }

  // ---- Jobs ---------------------------------------------------------------------------------------------------

  const knownTypes = new Set();

  function addJobTypes(types) {
    const select = $('filter-type');
    for (const type of types) {
      if (typeof type !== 'string' || knownTypes.has(type)) continue;
      knownTypes.add(type);
      select.append(el('option', { value: type }, type));
    }
  }

  async function loadJobTypes() {
    const answer = await api('/jobtypes');
    if (answer.status === 200 && Array.isArray(answer.body.jobTypes))
      addJobTypes(answer.body.jobTypes.map((policy) => policy.jobType));
  }

  let jobsAsked = 0;

  async function loadJobs() {
    // A filter change and a refresh may overlap: only the answer to the latest question is shown.
    const asked = ++jobsAsked;
    const params = new URLSearchParams({ limit: '50' });
    const { status, jobType, id } = state.filters;
    if (status) params.set('status', status);
    if (jobType) params.set('jobType', jobType);
    const answer = await api(`/jobs?${params}`);
    if (answer.status !== 200 || asked !== jobsAsked) return answer;
    const search = id.trim().toLowerCase();
    const jobs = answer.body.jobs.filter((job) => !search || job.jobId.toLowerCase().includes(search));
    $('jobs-note').textContent =
      `${jobs.length} job(s)` +
      (search ? ` whose id contains “${search}”` : '') +
      (answer.body.continuationToken ? ' among the newest 50 matching; narrow the filters for others' : '');
    render($('job-table').tBodies[0], jobs, () =>
      jobs.length === 0
        ? [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No jobs match.'))]
        : jobs.map((job) =>
            el(
              'tr',
              { 'data-job-id': job.jobId },
              el('td', {}, jobLink(job.jobId, `job-${job.jobId}`)),
              el('td', {}, job.jobType),
              el(
                'td',
                {},
                el('span', { class: `badge status-${job.status}` }, job.status),
                isDiscarded(job) ? el('span', { class: 'meta' }, ' discarded') : null,
              ),
              el('td', {}, `${job.attempt} of ${job.maxAttempts}`),
              el('td', {}, time(job.submittedAt)),
              el('td', {}, time(job.updatedAt)),
            ),
          ),
    );
    return answer;
  }

  // ---- Job detail: a panel over the view it was opened from ---------------------------------------------------

  /** Shows the panel for a job, moves focus to it, and reads the job. */
  async function openJob(jobId) {
    const panel = $('detail');
    const active = document.activeElement;
    // Where focus goes back to when the panel closes: the link or field it was opened from.
    if (active && active !== document.body && !panel.contains(active)) state.opener = active;
    const changed = state.selectedJobId !== jobId;
    state.selectedJobId = jobId;
    if (changed) {
      $('detail-title').textContent = `Job ${jobId}`;
      $('detail-body').hidden = true;
      $('detail-problem').hidden = true;
    }
    panel.hidden = false;
    $('detail-title').focus();
    await loadDetail();
  }

  /** Hides the panel (the address has left the job); `true` if it was open. Focus goes back where it came from. */
  function hidePanel() {
    if (!state.selectedJobId) return false;
    state.selectedJobId = undefined;
    const panel = $('detail');
    const hadFocus = panel.contains(document.activeElement) || document.activeElement === document.body;
    panel.hidden = true;
    if (hadFocus) focusOpener();
    return true;
  }

  /** The control the panel was opened from, or its counterpart after a refresh drew it again, or the view. */
  function focusOpener() {
    const opener = state.opener;
    state.opener = undefined;
    const key = opener && opener.getAttribute('data-focus');
    const again =
      opener && opener.isConnected
        ? opener
        : key &&
          [...document.querySelectorAll('[data-focus]')].find((c) => c.getAttribute('data-focus') === key);
    if (again) again.focus();
    else viewHeading(state.view).focus();
  }

  /** Closes the panel (Close, Escape): back to the view it was opened from, as the browser's back button does. */
  function closeJob() {
    const view = state.viewAddress;
    if (view !== undefined && history.state && history.state.from === view) history.back();
    else navigate(view === undefined ? '#/jobs' : view);
  }

  async function loadDetail() {
    const jobId = state.selectedJobId;
    if (!jobId) return { status: 200 };
    const answer = await api(`/jobs/${encodeURIComponent(jobId)}`);
    if (state.selectedJobId !== jobId) return { status: 200 };
    if (answer.status === 200) {
      renderDetail(answer.body);
    } else if (answer.status === 404 || answer.status === 400) {
      // A link to a job that is not (or no longer) there: said in the panel, not as a failure of the app.
      $('detail-body').hidden = true;
      $('detail-problem').hidden = false;
      $('detail-problem').textContent =
        answer.status === 404 ? `No job with this id (HTTP 404).` : `Not a job id: ${problemText(answer)}`;
      return { status: 200 };
    }
    return answer;
  }

  /** Whether a DeadLettered job's dead-lettered message was discarded (as the API's `deadLetteredDiscarded` counts). */
  function isDiscarded(job) {
    const actions = job.deadLetterActions || [];
    return (
      job.status === 'DeadLettered' &&
      actions.length > 0 &&
      actions[actions.length - 1].action === 'Discarded'
    );
  }

  /**
   * Whether an attempt is the run a cancel stopped: recorded Failed ("The job was cancelled."), it is the last one
   * of a Cancelled job and ended when the job did (as the API's `cancelled` attempts per minute count it).
   */
  function isCancelledAttempt(job, outcome) {
    const last = job.lastOutcome;
    return (
      job.status === 'Cancelled' &&
      outcome.status !== 'Completed' &&
      !!last &&
      last.attempt === outcome.attempt &&
      last.completedAt === outcome.completedAt &&
      job.completedAt === outcome.completedAt
    );
  }

  function renderDetail(job) {
    $('detail-problem').hidden = true;
    $('detail-body').hidden = false;
    $('detail-title').textContent = `Job ${job.jobId}`;
    const fields = [
      ['Type', job.jobType],
      ['Status', job.status + (isDiscarded(job) ? ' (its dead-lettered message was discarded)' : '')],
      ['Attempt', `${job.attempt} of ${job.maxAttempts} (cycle ${job.cycle})`],
      ['Subject', job.subjectId || '—'],
      ['Correlation id', job.correlationId || '—'],
      ['Idempotency key', job.idempotencyKey || '—'],
      ['Submitted', time(job.submittedAt)],
      ['Started', time(job.startedAt)],
      ['Finished', time(job.completedAt)],
      ['Next attempt', time(job.nextAttemptAt)],
      ['Claimed by', job.claimedBy ? `${job.claimedBy} until ${time(job.claimExpiresAt)}` : '—'],
      [
        'Progress',
        job.progress ? `${job.progress.percent}%${job.progress.note ? ` — ${job.progress.note}` : ''}` : '—',
      ],
      ['Cancel requested', time(job.cancelRequestedAt)],
    ];
    render($('detail-fields'), job, () =>
      fields.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]),
    );
    const items = state.deadLetters.filter((item) => item.jobId === job.jobId);
    render(
      $('detail-deadletter'),
      { reason: job.deadLetterReason, description: job.deadLetterDescription, items, access: state.access },
      () =>
        job.deadLetterReason || items.length
          ? [
              el(
                'div',
                { class: 'deadletter' },
                el('h3', {}, 'Dead-lettered'),
                el('p', {}, el('strong', {}, job.deadLetterReason || (items[0] && items[0].reason) || '—')),
                el(
                  'pre',
                  { class: 'message' },
                  job.deadLetterDescription || (items[0] && items[0].description) || '',
                ),
                items.map((item) =>
                  el(
                    'p',
                    { class: 'buttons' },
                    `Message ${item.sequenceNumber}: `,
                    itemActions(item, 'detail'),
                  ),
                ),
              ),
            ]
          : [],
    );
    let previousAttempt = 0;
    render($('detail-attempts'), job.outcomes, () =>
      job.outcomes.length === 0
        ? [el('li', { class: 'empty' }, 'No attempt has ended yet.')]
        : job.outcomes.map((outcome) => {
            const newCycle = outcome.attempt <= previousAttempt;
            previousAttempt = outcome.attempt;
            const cancelled = isCancelledAttempt(job, outcome);
            return el(
              'li',
              { class: `outcome status-${cancelled ? 'Cancelled' : outcome.status}` },
              newCycle ? el('p', { class: 'cycle' }, 'Replayed: attempts count again') : null,
              el(
                'p',
                {},
                el(
                  'strong',
                  {},
                  `Attempt ${outcome.attempt}: ` +
                    (cancelled ? `Cancelled (recorded ${outcome.status})` : outcome.status),
                ),
                ` after ${Math.round(outcome.durationMs)} ms, at ${time(outcome.completedAt)}`,
              ),
              outcome.errorMessage ? el('pre', { class: 'message' }, outcome.errorMessage) : null,
            );
          }),
    );
    render($('detail-actions'), job.deadLetterActions, () =>
      job.deadLetterActions.length === 0
        ? [el('li', { class: 'empty' }, 'None.')]
        : job.deadLetterActions.map((action) =>
            el(
              'li',
              {},
              el('strong', {}, action.action),
              ` at ${time(action.at)}: message ${action.sequenceNumber}, dead-lettered for ${action.reason}` +
                (action.payloadCorrected ? ', with a corrected payload' : ''),
            ),
          ),
    );
  }

  // ---- Dead-letter queue --------------------------------------------------------------------------------------

  function setAccess(access, status) {
    state.access = access;
    const notice = $('access');
    $('dlq-content').hidden = access !== 'admin';
    if (access === 'read-only') {
      notice.hidden = false;
      notice.textContent =
        `Read-only: this key may read jobs but not the dead-letter queue (HTTP ${status}). ` +
        'Replay and discard need the admin (master) key: open the dashboard with ?code=<master key>.';
      $('dlq-note').textContent = 'The dead-letter queue needs the admin key.';
    } else {
      notice.hidden = true;
    }
  }

  async function loadDeadLetters() {
    const answer = await api('/deadletters?limit=1000');
    if (answer.status === 401 || answer.status === 403) {
      state.deadLetters = [];
      state.deadLetterListing = undefined;
      setAccess('read-only', answer.status);
      return { status: 200 };
    }
    if (answer.status !== 200) return answer;
    setAccess('admin');
    state.deadLetterListing = answer.body;
    state.deadLetters = answer.body.items;
    renderDeadLetters();
    return answer;
  }

  /** The listing last read, narrowed to the address's reason and job type (`#/deadletters?reason=&jobType=`). */
  function renderDeadLetters() {
    const listing = state.deadLetterListing;
    if (!listing) return;
    const filter = state.deadLetterFilter;
    const narrowed = Boolean(filter.reason || filter.jobType);
    const items = listing.items.filter(
      (item) =>
        (!filter.reason || item.reason === filter.reason) &&
        (!filter.jobType || item.jobType === filter.jobType),
    );
    $('dlq-note').textContent =
      `${listing.scanned} message(s) in the dead-letter queue now, whenever they were dead-lettered` +
      (listing.truncated ? ' (only the oldest were read)' : '') +
      (listing.matched > listing.items.length ? `; the oldest ${listing.items.length} are shown` : '') +
      '. A discarded message leaves it; its job stays DeadLettered.';
    const narrowedTo = narrowed
      ? `dead-lettered for ${filter.reason || 'any reason'}, ${filter.jobType ? `job type ${filter.jobType}` : 'any job type'}`
      : '';
    render($('dlq-filter'), [narrowedTo, items.length, listing.items.length], () =>
      narrowed
        ? [
            `Showing ${items.length} of ${listing.items.length} message(s): ${narrowedTo}. `,
            el('a', { href: '#/deadletters', 'data-focus': 'dlq-show-all' }, 'Show all'),
          ]
        : [],
    );
    $('dlq-filter').hidden = !narrowed;
    $('dlq-items-caption').textContent = narrowed
      ? `Messages ${narrowedTo}, oldest first`
      : 'Messages, oldest first';
    const groups = new Map();
    for (const item of listing.items) {
      const groupKey = JSON.stringify([item.reason, item.jobType]);
      const group = groups.get(groupKey) || { reason: item.reason, jobType: item.jobType, items: [] };
      group.items.push(item);
      groups.set(groupKey, group);
    }
    const groupList = [...groups.values()];
    render(
      $('dlq-groups').tBodies[0],
      [groupList.map((group) => [group.reason, group.jobType, group.items.length]), filter],
      () =>
        groupList.length === 0
          ? [el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'The dead-letter queue is empty.'))]
          : groupList.map((group) => groupRow(group)),
    );
    render($('dlq-items').tBodies[0], items, () =>
      items.length === 0
        ? [el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No messages.'))]
        : items.map((item) =>
            el(
              'tr',
              { 'data-sequence-number': item.sequenceNumber },
              el('td', { class: 'mono' }, item.sequenceNumber),
              el(
                'td',
                {},
                item.jobId ? jobLink(item.jobId, `dlq-job-${item.sequenceNumber}`) : '(not a job)',
              ),
              el('td', {}, item.jobType || '—'),
              el('td', {}, item.reason),
              el('td', { class: 'description' }, item.description),
              el('td', {}, String(item.attempts)),
              el('td', {}, time(item.deadLetteredAt)),
              el('td', { class: 'buttons' }, itemActions(item, 'item')),
            ),
          ),
    );
  }

  function groupRow(group) {
    const label = `${group.reason}, ${group.jobType || 'not a job'}`;
    const focus = `group-${group.reason}-${group.jobType}`;
    const filter = state.deadLetterFilter;
    const shown =
      Boolean(filter.reason || filter.jobType) &&
      (!filter.reason || filter.reason === group.reason) &&
      (!filter.jobType || filter.jobType === group.jobType);
    return el(
      'tr',
      {
        'data-reason': group.reason,
        'data-job-type': group.jobType || '',
        class: shown ? 'selected' : undefined,
        'aria-current': shown ? 'true' : undefined,
      },
      el('td', {}, group.reason),
      el('td', {}, group.jobType || '(not a job)'),
      el(
        'td',
        { class: 'count' },
        el(
          'a',
          {
            href: deadLettersAddress({ reason: group.reason, jobType: group.jobType || '' }),
            'data-focus': `${focus}-show`,
            'aria-label': `Show the ${group.items.length} message(s) (${label})`,
          },
          String(group.items.length),
        ),
      ),
      el(
        'td',
        { class: 'buttons' },
        group.jobType
          ? button('Replay all', {
              focus: `${focus}-replay`,
              label: `Replay all ${group.items.length} (${label})`,
              onclick: () => void replayGroup(group),
            })
          : null,
        button('Discard all', {
          className: 'danger',
          focus: `${focus}-discard`,
          label: `Discard all ${group.items.length} (${label})`,
          onclick: () => void discardGroup(group),
        }),
      ),
    );
  }

  function itemActions(item, where) {
    const focus = `${where}-${item.sequenceNumber}`;
    return [
      item.jobId
        ? button('Replay', {
            focus: `${focus}-replay`,
            label: `Replay message ${item.sequenceNumber}`,
            onclick: () => void replayOne(item),
          })
        : null,
      item.jobId
        ? button('Replay with payload…', {
            focus: `${focus}-edit`,
            label: `Replay message ${item.sequenceNumber} with a corrected payload`,
            onclick: () => openEditor(item),
          })
        : null,
      button('Discard', {
        className: 'danger',
        focus: `${focus}-discard`,
        label: `Discard message ${item.sequenceNumber}`,
        onclick: () => void discardOne(item),
      }),
    ];
  }

  function report(text, ok) {
    const result = $('action-result');
    result.className = ok ? 'result ok' : 'result failed';
    result.textContent = text;
  }

  async function replayOne(item, payload) {
    const answer = await api(`/deadletters/${encodeURIComponent(item.sequenceNumber)}/replay`, {
      method: 'POST',
      body: payload === undefined ? undefined : { payload },
    });
    if (answer.status === 202) {
      if (editing && editing.sequenceNumber === item.sequenceNumber) closeEditor();
      report(`Replayed message ${item.sequenceNumber}: job ${answer.body.jobId} is queued again.`, true);
    } else {
      report(`Replay of message ${item.sequenceNumber} refused: ${problemText(answer)}`, false);
    }
    await refresh();
    return answer;
  }

  async function discardOne(item) {
    if (!window.confirm(`Discard dead-lettered message ${item.sequenceNumber} for good?`)) return;
    const answer = await api(`/deadletters/${encodeURIComponent(item.sequenceNumber)}`, { method: 'DELETE' });
    if (answer.status === 200) report(`Discarded message ${item.sequenceNumber}.`, true);
    else report(`Discard of message ${item.sequenceNumber} refused: ${problemText(answer)}`, false);
    await refresh();
  }

  function bulkText(verb, answer, count, ok) {
    const failures = (answer.body.results || []).filter((result) => result.status === 'failed');
    return (
      `${verb} ${ok} of ${count} message(s).` +
      (failures.length
        ? ` Failed: ${failures.map((f) => `${f.sequenceNumber} (${f.code}: ${f.error})`).join('; ')}.`
        : '') +
      (answer.body.truncated ? ' More match: run it again.' : '')
    );
  }

  // Replay or discard every message of a group, through the API's bulk route for its reason and job type.
  async function actOnGroup(action, group) {
    const [done, name, counted] =
      action === 'replay' ? ['Replayed', 'Replay', 'replayed'] : ['Discarded', 'Discard', 'discarded'];
    const answer = await api(`/deadletters/${action}`, {
      method: 'POST',
      body: { reason: group.reason, jobType: group.jobType },
    });
    if (answer.status === 200)
      report(
        bulkText(done, answer, answer.body.results.length, answer.body[counted]),
        answer.body.failed === 0,
      );
    else report(`${name} refused: ${problemText(answer)}`, false);
  }

  async function replayGroup(group) {
    await actOnGroup('replay', group);
    await refresh();
  }

  async function discardGroup(group) {
    const label = `${group.items.length} message(s) dead-lettered for ${group.reason} (${group.jobType || 'not a job'})`;
    if (!window.confirm(`Discard ${label} for good?`)) return;
    if (group.jobType) {
      await actOnGroup('discard', group);
    } else {
      // Messages that are not jobs have no job type to filter by: discarded one by one.
      let discarded = 0;
      const failures = [];
      for (const item of group.items) {
        const answer = await api(`/deadletters/${encodeURIComponent(item.sequenceNumber)}`, {
          method: 'DELETE',
        });
        if (answer.status === 200) discarded += 1;
        else failures.push(`${item.sequenceNumber} (${problemText(answer)})`);
      }
      report(
        `Discarded ${discarded} of ${group.items.length} message(s).` +
          (failures.length ? ` Failed: ${failures.join('; ')}.` : ''),
        failures.length === 0,
      );
    }
    await refresh();
  }

  let editing;

  function openEditor(item) {
    // From the job panel: the editor is part of the dead-letter queue, so that view comes forward, at the message.
    if (state.selectedJobId)
      navigate(deadLettersAddress({ reason: item.reason, jobType: item.jobType || '' }));
    editing = item;
    $('replay-editor').hidden = false;
    $('replay-target').textContent =
      `Message ${item.sequenceNumber}, job ${item.jobId} (${item.jobType}), dead-lettered for ${item.reason}.`;
    $('replay-payload').value = '{}';
    $('replay-errors').textContent = '';
    $('replay-payload').focus();
  }

  function closeEditor() {
    $('replay-editor').hidden = true;
    editing = undefined;
  }

  async function submitEditor(event) {
    event.preventDefault();
    if (!editing) return;
    let payload;
    try {
      payload = JSON.parse($('replay-payload').value);
    } catch (error) {
      $('replay-errors').textContent = `Not valid JSON: ${error.message}`;
      return;
    }
    const item = editing;
    const answer = await replayOne(item, payload);
    if (answer.status !== 202) $('replay-errors').textContent = problemText(answer);
  }

  // ---- Refresh ----------------------------------------------------------------------------------------------

  function showBanner(answers) {
    const banner = $('banner');
    const unavailable = answers.find((answer) => answer.status === 503);
    const unreachable = answers.find((answer) => answer.status === 0);
    const unauthorized = answers.find((answer) => answer.status === 401 || answer.status === 403);
    const failed = answers.find((answer) => answer.status >= 400 || answer.status < 0);
    const since = state.lastSuccess ? ` Showing what was read at ${time(state.lastSuccess)}.` : '';
    let text = '';
    if (unavailable)
      text = `Unavailable: the job store or queue cannot be reached (HTTP 503). Trying again every ${intervalMs / 1000} s.${since}`;
    else if (unreachable)
      text = `The app cannot be reached. Trying again every ${intervalMs / 1000} s.${since}`;
    else if (unauthorized)
      text = `This key cannot read the job API (HTTP ${unauthorized.status}): open the dashboard with ?code=<function key>.`;
    else if (failed) text = `The job API failed: ${problemText(failed)}.${since}`;
    banner.hidden = text === '';
    banner.textContent = text;
    banner.className = unavailable ? 'banner unavailable' : 'banner';
    document.body.classList.toggle('stale', text !== '');
  }

  /** A loader's answer; an answer it could not show becomes a failure of its own, never an unhandled error. */
  async function safely(loader) {
    try {
      return await loader();
    } catch (error) {
      return { status: -1, body: { title: 'The page could not show an answer', detail: String(error) } };
    }
  }

  let refreshing;
  let pending;

  /**
   * Reads everything again (`timed`: the live refresh, which reads the dead-letter queue only every
   * `deadLetterIntervalMs`); a call made while a refresh runs gets a full one after it, so it sees its own change.
   */
  function refresh(timed = false) {
    if (refreshing) {
      pending ??= refreshing.then(() => {
        pending = undefined;
        return refresh();
      });
      return pending;
    }
    refreshing = (async () => {
      clearTimeout(state.timer);
      const loaders = [safely(loadStats), safely(loadJobs)];
      if (!timed || Date.now() - state.deadLettersReadAt >= deadLetterIntervalMs) {
        state.deadLettersReadAt = Date.now();
        loaders.push(safely(loadDeadLetters));
      }
      const answers = await Promise.all(loaders);
      answers.push(await safely(loadDetail));
      showBanner(answers);
      if (answers.every((answer) => answer.status > 0 && answer.status < 400))
        state.lastSuccess = new Date().toISOString();
      $('last-refresh').textContent = `Updated ${time(new Date().toISOString())}`;
      document.body.setAttribute(
        'data-refreshed',
        String(Number(document.body.getAttribute('data-refreshed') || 0) + 1),
      );
    })().finally(() => {
      refreshing = undefined;
      schedule();
    });
    return refreshing;
  }

  function schedule() {
    clearTimeout(state.timer);
    if (!state.paused) state.timer = setTimeout(() => void refresh(true), intervalMs);
  }

  async function loadHealth() {
    const answer = await api('/health');
    if (answer.status !== 200) return;
    const health = answer.body;
    $('mode').textContent =
      `Transport: ${health.mode} · queue ${health.queue} · settlement ${health.settlement}`;
  }

  function start() {
    for (const status of statuses) $('filter-status').append(el('option', { value: status }, status));
    $('refresh-toggle').addEventListener('click', () => {
      state.paused = !state.paused;
      $('refresh-toggle').setAttribute('aria-pressed', String(state.paused));
      $('refresh-toggle').textContent = state.paused ? 'Resume live refresh' : 'Pause live refresh';
      schedule();
    });
    $('refresh-now').addEventListener('click', () => void refresh());
    const filtersAddress = () =>
      jobsAddress({
        status: $('filter-status').value,
        jobType: $('filter-type').value,
        id: $('filter-id').value.trim(),
      });
    $('job-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      const search = $('filter-id').value.trim();
      navigate(guid.test(search) ? jobAddress(search.toLowerCase()) : filtersAddress());
    });
    $('filter-status').addEventListener('change', () => navigate(filtersAddress()));
    $('filter-type').addEventListener('change', () => navigate(filtersAddress()));
    $('detail-close').addEventListener('click', closeJob);
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !state.selectedJobId || event.defaultPrevented) return;
      event.preventDefault();
      closeJob();
    });
    // The page's own links (`#/…`) go through `navigate`, so that Close knows where back leads; a click with a
    // modifier (a new tab or window) is left to the browser.
    document.addEventListener('click', (event) => {
      const link = event.target instanceof Element ? event.target.closest('a[href^="#/"]') : null;
      if (!link || event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(link.getAttribute('href'));
    });
    window.addEventListener('hashchange', applyAddress);
    $('replay-editor').addEventListener('submit', (event) => void submitEditor(event));
    $('replay-cancel').addEventListener('click', closeEditor);
    applyAddress();
    void loadHealth();
    void loadJobTypes();
    void refresh();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
