// The store between the backend and the UI: a snapshot plus subscribe (for useSyncExternalStore).
// Keys dispatch at once; the firehose (log lines, execution changes, stats frames) is queued and
// applied in batches. A change is applied `flushMs` (100 ms) after it arrives, and no sooner than
// `busyFlushMs` (250 ms) after the last batch: while changes keep coming, a batch every 250 ms. Every
// batch costs Ink a whole frame whatever it holds (~25 ms of a core at 120×40 with 20 busy executions
// and their log lines): at 10 batches a second 20 busy executions took 31–34 % of a core, at 5 a second
// 19–22 %, at 4 a second 15–16 % (bench/executions.ts), and a flood of 5,000 lines/s costs 4 state
// changes a second, not 5,000. An execution's state change (a new execution or a new status: news the
// user waits for, ≤ 200 ms to the screen) keeps the short window, busy or not.
// Samples alone (stats streams and the process sampler, each about once a second but out of phase) are
// applied at most once per `statsIntervalMs`, so an idle stack costs one redraw a second, not one per
// source. No timer runs while nothing arrives.
import { type DashboardAction, dashboardReducer } from './dashboardReducer.js';
import { type DashboardState, type ResourceSample, initialDashboardState } from './dashboardState.js';
import type { ExecutionSummary } from '../api/AgentRunnerClient.js';
import { executionRow } from './executionsReducer.js';
import { type IncomingLogLine, LogBook } from './LogBook.js';
import { sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';

/** Event lines of the open execution that the pane keeps (its scrollback). */
const executionLogLines = 5000;

export interface DashboardStoreOptions {
	/** the window of the first change after a quiet spell */
	flushMs?: number;
	/** the window while changes keep coming */
	busyFlushMs?: number;
	/** samples with no log line to ride along with are applied at most this often */
	statsIntervalMs?: number;
	perServiceLogLines?: number;
	initialState?: Partial<DashboardState>;
}

/** What the backend feeds: actions, plus log lines and samples that the store batches. */
export interface DashboardSink {
	dispatch(action: DashboardAction): void;
	appendLogs(lines: IncomingLogLine[]): void;
	recordSample(service: string, sample: ResourceSample): void;
	/** changes of executions (the all-executions stream): batched like log lines */
	upsertExecutions(summaries: ExecutionSummary[]): void;
}

export class DashboardStore implements DashboardSink {
	readonly logs: LogBook;
	/** the open execution's event lines, one ring under its id (a new book for each execution opened) */
	executionLog = new LogBook(executionLogLines);
	/** the last summary of each execution that changed since the last flush (a summary is the whole current picture of one execution) */
	private pendingSummaries = new Map<string, ExecutionSummary>();
	private lastExecutionsFlushAt = Number.NEGATIVE_INFINITY;
	private pendingExecutionLines: IncomingLogLine[] = [];
	private state: DashboardState;
	private readonly listeners = new Set<() => void>();
	/** lines went into the rings since the last flush: the change the next flush announces */
	private linesPending = false;
	private pendingSamples: Record<string, ResourceSample> = {};
	private hasPendingSamples = false;
	private flushTimer: NodeJS.Timeout | null = null;
	private flushDueAt = 0;
	/** when the last batch of log lines or execution changes was applied */
	private lastFlushAt = Number.NEGATIVE_INFINITY;
	private readonly flushMs: number;
	private readonly busyFlushMs: number;
	private readonly statsIntervalMs: number;
	private lastSamplesAt = Number.NEGATIVE_INFINITY;
	private batchDepth = 0;
	private changedInBatch = false;

	constructor(options: DashboardStoreOptions = {}) {
		// every batch costs Ink a whole frame: 75 ms made ~13 frames a second under a flood, 100 ms makes 10
		this.flushMs = options.flushMs ?? 100;
		this.busyFlushMs = Math.max(this.flushMs, options.busyFlushMs ?? 250);
		// Stats reach the screen every 2 s: each frame costs Ink a full redraw (~6 ms at 120×40), and once a
		// second kept an idle dashboard above 1 % of a core. Logs, keys and state changes are not delayed.
		this.statsIntervalMs = options.statsIntervalMs ?? 2000;
		this.logs = new LogBook(options.perServiceLogLines);
		this.state = { ...initialDashboardState, ...options.initialState };
	}

	getSnapshot = (): DashboardState => this.state;

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	dispatch = (action: DashboardAction): void => {
		// a fresh picture: changes queued from before it must not come back after it
		if (action.type === 'executions/reset') this.pendingSummaries.clear();
		const next = dashboardReducer(this.state, action);
		if (next === this.state) return;
		this.state = next;
		if (this.batchDepth > 0) this.changedInBatch = true;
		else this.emit();
	};

	/** Several dispatches, one notification. */
	batch(run: () => void): void {
		this.batchDepth++;
		try {
			run();
		} finally {
			this.batchDepth--;
			if (this.batchDepth === 0 && this.changedInBatch) {
				this.changedInBatch = false;
				this.emit();
			}
		}
	}

	appendLogs = (lines: IncomingLogLine[]): void => {
		if (lines.length === 0) return;
		// Into the rings at once, announced with the next batch: a line held until the batch lived long
		// enough (100–200 ms under a flood) to be copied by the young generation's collections and
		// promoted, with the object and strings it came as; in the ring it is a slice of one string.
		this.linesPending = this.logs.append(lines) > 0 || this.linesPending;
		this.scheduleFlush(this.firehoseDelay());
	};

	recordSample = (service: string, sample: ResourceSample): void => {
		this.pendingSamples[service] = sample;
		this.hasPendingSamples = true;
		this.scheduleFlush(Math.max(this.flushMs, this.lastSamplesAt + this.statsIntervalMs - Date.now()));
	};

	upsertExecutions = (summaries: ExecutionSummary[]): void => {
		if (summaries.length === 0) return;
		// the stream sends an execution's changes in order: its last summary is its newest state
		let stateChange = false;
		for (const summary of summaries) {
			const known = this.pendingSummaries.get(summary.id) ?? executionRow(this.state.executions, summary.id);
			if (known?.status !== summary.status) stateChange = true;
			this.pendingSummaries.set(summary.id, summary);
		}
		// The first change after a quiet spell is applied at once (a timer fires late on a busy machine).
		// A state change is news the user waits for (≤ 200 ms to the screen): it is applied flushMs after
		// the last batch of executions, busy or not; steps and tools of running executions ride along
		// with the firehose's batches.
		const quietFor = Date.now() - this.lastExecutionsFlushAt;
		if (!this.flushTimer && quietFor >= this.flushMs) {
			this.flush();
			return;
		}
		this.scheduleFlush(stateChange ? Math.max(0, this.flushMs - quietFor) : this.firehoseDelay());
	};

	/** A fresh, empty log for the execution about to be opened. */
	openExecutionLog(): LogBook {
		this.pendingExecutionLines = [];
		this.executionLog = new LogBook(executionLogLines);
		return this.executionLog;
	}

	/** Event lines of the open execution (`book` is the one openExecutionLog gave: lines of a closed one are dropped). */
	appendExecutionLines(book: LogBook, lines: IncomingLogLine[]): void {
		if (book !== this.executionLog || lines.length === 0) return;
		for (const line of lines) this.pendingExecutionLines.push(line);
		this.scheduleFlush(this.firehoseDelay());
	}

	/** Applies what is queued now (the timer does it otherwise). */
	flush = (): void => {
		if (this.flushTimer) {
			clearTimeout(this.flushTimer);
			this.flushTimer = null;
		}
		const lines = this.linesPending;
		const samples = this.pendingSamples;
		const hasSamples = this.hasPendingSamples;
		const summaries = this.pendingSummaries.size > 0 ? Array.from(this.pendingSummaries.values(), terminalSafeSummary) : [];
		const executionLines = this.pendingExecutionLines;
		if (summaries.length > 0) this.lastExecutionsFlushAt = Date.now();
		if (summaries.length > 0 || lines || executionLines.length > 0) this.lastFlushAt = Date.now();
		this.pendingSummaries.clear();
		this.pendingExecutionLines = [];
		this.linesPending = false;
		this.pendingSamples = {};
		this.hasPendingSamples = false;
		if (hasSamples) this.lastSamplesAt = Date.now();
		this.batch(() => {
			if (lines) this.dispatch({ type: 'logs/appended' });
			if (hasSamples) this.dispatch({ type: 'stats/sampled', samples });
			if (summaries.length > 0) this.dispatch({ type: 'executions/upserted', summaries });
			if (executionLines.length > 0 && this.executionLog.append(executionLines) > 0) this.dispatch({ type: 'executionLog/appended' });
		});
	};

	dispose(): void {
		if (this.flushTimer) clearTimeout(this.flushTimer);
		this.flushTimer = null;
		this.listeners.clear();
	}

	/**
	 * The delay of a firehose change: flushMs after it arrives (what comes with it joins the batch), and
	 * no sooner than busyFlushMs after the last batch. Changes that keep coming are applied at that beat
	 * whatever their rhythm: with "flushMs after a quiet spell of flushMs", clumps 150 ms apart (20
	 * executions whose model answers every 150 ms) each counted as news after a quiet spell, and made 5
	 * batches a second with busyFlushMs at 250 as at 200 (bench/executions.ts, a counter in the bundle).
	 */
	private firehoseDelay(): number {
		return Math.max(this.flushMs, this.lastFlushAt + this.busyFlushMs - Date.now());
	}

	/** A flush within `delayMs`: an earlier one already due stands, a later one is brought forward. */
	private scheduleFlush(delayMs: number): void {
		const dueAt = Date.now() + delayMs;
		if (this.flushTimer) {
			if (this.flushDueAt <= dueAt) return;
			clearTimeout(this.flushTimer);
		}
		this.flushDueAt = dueAt;
		this.flushTimer = setTimeout(this.flush, delayMs);
		this.flushTimer.unref?.();
	}

	private emit(): void {
		for (const listener of [...this.listeners]) listener();
	}
}

const plain = (text: string | null): string | null => (text === null ? null : sanitizeForTerminal(text, false));

/** The agent's and the model's text in a summary (agent and tool names, the error) cannot drive the terminal. */
export function terminalSafeSummary(summary: ExecutionSummary): ExecutionSummary {
	return { ...summary, agent: plain(summary.agent), tool: plain(summary.tool), error: plain(summary.error) };
}
