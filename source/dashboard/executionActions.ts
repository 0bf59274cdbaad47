// The executions view's side effects: following the all-executions stream into the store, and the
// events of the execution opened in the log pane, written by the same formatter as `stigmer run`
// (ExecutionPrinter, colour off: the pane colours failures itself). Nothing thrown here reaches React.
import { ExecutionPrinter } from '../agents/ExecutionPrinter.js';
import type { EventStreamItem, ExecutionFeedItem } from '../api/AgentRunnerClient.js';
import { errorMessage } from '../errors.js';
import type { DashboardSink, DashboardStore } from '../store/DashboardStore.js';
import type { IncomingLogLine } from '../store/LogBook.js';

/** What the executions view needs from the agent-runner (AgentRunnerClient on the real stack). */
export interface ExecutionsBackend {
	/** the all-executions stream (AgentRunnerClient.executionFeed) */
	feed(signal: AbortSignal): AsyncIterable<ExecutionFeedItem>;
	/** one execution's events until its end (AgentRunnerClient.events) */
	events(id: string, signal: AbortSignal): AsyncIterable<EventStreamItem>;
	cancel(id: string): Promise<void>;
}

/** Feeds the sink from the stream until the returned function is called. */
export function followExecutions(backend: ExecutionsBackend, sink: DashboardSink): () => void {
	const controller = new AbortController();
	void (async () => {
		try {
			for await (const item of backend.feed(controller.signal)) {
				if (controller.signal.aborted) return;
				switch (item.kind) {
					case 'live':
						sink.dispatch({ type: 'executions/runner', runner: { state: 'live' } });
						break;
					case 'reset':
						sink.dispatch({ type: 'executions/reset' });
						break;
					case 'execution':
						sink.upsertExecutions([item.summary]);
						break;
					case 'synced':
						break;
					case 'down':
						sink.dispatch({ type: 'executions/runner', runner: { state: 'down', problem: item.problem, message: item.message } });
						break;
				}
			}
		} catch (error) {
			if (!controller.signal.aborted) sink.dispatch({ type: 'executions/runner', runner: { state: 'down', problem: 'unavailable', message: errorMessage(error) } });
		}
	})();
	return () => controller.abort();
}

export interface ExecutionCommands {
	/** shows the execution's events in the log pane (following them while it runs) */
	open(id: string): void;
	/** back to the logs */
	close(): void;
	cancel(id: string): Promise<void>;
}

export function executionCommands(store: DashboardStore, backend: ExecutionsBackend | undefined): ExecutionCommands {
	let following: AbortController | null = null;
	const stop = () => {
		following?.abort();
		following = null;
	};
	return {
		open(id) {
			stop();
			store.dispatch({ type: 'executions/open', id });
			const book = store.openExecutionLog();
			if (!backend) {
				store.dispatch({ type: 'executions/detailEnded', id, error: 'no agent-runner' });
				return;
			}
			const controller = new AbortController();
			following = controller;
			let timeMs = Date.now();
			let pending: IncomingLogLine[] = [];
			const out = {
				write(text: string) {
					for (const line of text.replace(/\n$/, '').split('\n')) {
						pending.push({ service: id, stream: line.startsWith('✗') || line.startsWith('! ') ? 'stderr' : 'stdout', time: '', timeMs, line });
					}
				},
			};
			const push = () => {
				store.appendExecutionLines(book, pending);
				pending = [];
			};
			const printer = new ExecutionPrinter(out, false);
			const summary = store.getSnapshot().executions.rows.find((r) => r.id === id);
			printer.header(id, summary?.agent ?? '?', []);
			push();
			void (async () => {
				let error: string | undefined;
				try {
					for await (const item of backend.events(id, controller.signal)) {
						if (controller.signal.aborted) return;
						if (item.kind === 'disconnected') printer.notice(`lost the agent-runner (${item.reason}); reconnecting…`);
						else if (item.kind === 'reconnected') printer.notice(`reconnected after ${(item.downMs / 1000).toFixed(1)} s`);
						else {
							const time = typeof item.event.data.time === 'string' ? Date.parse(item.event.data.time) : Number.NaN;
							timeMs = Number.isFinite(time) ? time : Date.now();
							printer.event(item.event);
						}
						push();
					}
					printer.flush();
				} catch (failure) {
					if (controller.signal.aborted) return;
					error = errorMessage(failure);
					printer.flush();
					printer.notice(error);
				}
				push();
				if (!controller.signal.aborted) store.dispatch({ type: 'executions/detailEnded', id, ...(error ? { error } : {}) });
			})();
		},
		close() {
			stop();
			store.dispatch({ type: 'executions/close' });
		},
		async cancel(id) {
			store.dispatch({ type: 'executions/confirmCancel', id: null });
			if (!backend) return;
			try {
				await backend.cancel(id);
				store.dispatch({ type: 'status/set', status: { kind: 'info', text: `cancelling ${id}…` } });
			} catch (error) {
				store.dispatch({ type: 'status/set', status: { kind: 'error', text: `cancel ${id}: ${errorMessage(error)}` } });
			}
		},
	};
}
