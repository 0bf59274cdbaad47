// The executions slice of the dashboard's state: the rows the all-executions stream keeps up to date
// (keyed by id, so a resumed or repeated stream never duplicates a row), the selection, the runner's
// reachability, the execution opened in the log pane and a cancellation waiting for its confirmation.
import type { ExecutionSummary } from '../api/AgentRunnerClient.js';
import { type ExecutionsView, type RunnerFeedView, maxExecutions } from './dashboardState.js';

export type ExecutionsAction =
	// from the backend
	| { type: 'executions/reset' }
	| { type: 'executions/upserted'; summaries: ExecutionSummary[] }
	| { type: 'executions/runner'; runner: RunnerFeedView }
	| { type: 'executions/detailEnded'; id: string; error?: string }
	// from keys
	| { type: 'executions/move'; delta: number }
	| { type: 'executions/open'; id: string }
	| { type: 'executions/close' }
	| { type: 'executions/confirmCancel'; id: string | null };

/** Newest first: by creation time, then id (ids start with the creation time). */
function newestFirst(a: ExecutionSummary, b: ExecutionSummary): number {
	if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
	return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function sameSummary(a: ExecutionSummary, b: ExecutionSummary): boolean {
	return a.status === b.status && a.steps === b.steps && a.tool === b.tool && a.error === b.error && a.started_at === b.started_at && a.finished_at === b.finished_at && a.agent === b.agent;
}

/** Each rows array's id → position, built once per array (a batch of changes to known rows reuses it). */
const rowPositions = new WeakMap<readonly ExecutionSummary[], Map<string, number>>();

function positions(rows: readonly ExecutionSummary[]): Map<string, number> {
	let index = rowPositions.get(rows);
	if (!index) {
		index = new Map(rows.map((row, i) => [row.id, i]));
		rowPositions.set(rows, index);
	}
	return index;
}

/** The row of execution `id`, if the list holds it. */
export function executionRow(view: ExecutionsView, id: string): ExecutionSummary | undefined {
	const at = positions(view.rows).get(id);
	return at === undefined ? undefined : view.rows[at];
}

export function executionsReducer(view: ExecutionsView, action: ExecutionsAction): ExecutionsView {
	switch (action.type) {
		case 'executions/reset':
			return view.rows.length === 0 ? view : { ...view, rows: [] };
		case 'executions/upserted': {
			const index = positions(view.rows);
			let rows: ExecutionSummary[] | null = null;
			// executions new to the list, at the end until sorted (the index of view.rows stays as it is)
			let added: Map<string, number> | null = null;
			for (const summary of action.summaries) {
				const at = index.get(summary.id) ?? added?.get(summary.id);
				if (at !== undefined) {
					const current = (rows ?? view.rows)[at]!;
					if (sameSummary(current, summary)) continue;
					rows ??= [...view.rows];
					rows[at] = summary;
				} else {
					rows ??= [...view.rows];
					added ??= new Map();
					added.set(summary.id, rows.length);
					rows.push(summary);
				}
			}
			if (!rows) return view;
			if (added) {
				rows.sort(newestFirst);
				if (rows.length > maxExecutions) rows.length = maxExecutions;
			} else {
				// rows replaced in place: the same positions (no index rebuilt for a batch of changes)
				rowPositions.set(rows, index);
			}
			// a selection on the newest row follows the newest (as a log pane follows its tail); one the user
			// moved elsewhere stays on its execution
			const onNewest = view.selectedId === null || view.rows[0]?.id === view.selectedId;
			const selectedId = !onNewest && view.selectedId !== null && positions(rows).has(view.selectedId) ? view.selectedId : (rows[0]?.id ?? null);
			return { ...view, rows, selectedId };
		}
		case 'executions/runner': {
			const r = action.runner;
			if (r.state === view.runner.state && r.problem === view.runner.problem && r.message === view.runner.message) return view;
			return { ...view, runner: r };
		}
		case 'executions/detailEnded':
			if (view.detail?.id !== action.id) return view;
			return { ...view, detail: { ...view.detail, ended: true, ...(action.error ? { error: action.error } : {}) } };
		case 'executions/move': {
			if (view.rows.length === 0) return view;
			const current = Math.max(
				0,
				view.rows.findIndex((r) => r.id === view.selectedId),
			);
			const next = Math.min(view.rows.length - 1, Math.max(0, current + action.delta));
			const id = view.rows[next]!.id;
			return id === view.selectedId ? view : { ...view, selectedId: id };
		}
		case 'executions/open':
			return { ...view, selectedId: action.id, detail: { id: action.id, ended: false }, confirmCancel: null };
		case 'executions/close':
			return view.detail === null ? view : { ...view, detail: null };
		case 'executions/confirmCancel':
			return view.confirmCancel === action.id ? view : { ...view, confirmCancel: action.id };
	}
}

/** The rows shown in a table of `height` rows: pages of the list, the one holding the selection. */
export function executionsWindow(view: ExecutionsView, height: number): { from: number; rows: ExecutionSummary[] } {
	const size = Math.max(1, height);
	const selected = (view.selectedId !== null ? positions(view.rows).get(view.selectedId) : undefined) ?? 0;
	const from = Math.floor(selected / size) * size;
	return { from, rows: view.rows.slice(from, from + size) };
}
