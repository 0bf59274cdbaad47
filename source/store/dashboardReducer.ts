// The dashboard's pure reducer: every change of DashboardState is one of these actions.
import type { ServiceStatus } from '../serviceStatus.js';
import {
	type ActionInProgress,
	type DashboardState,
	type EngineView,
	type ResourceSample,
	type ServiceActionKind,
	type ServiceResources,
	type StatusMessage,
	type TerminalHandover,
	historyCellMs,
	historyCells,
} from './dashboardState.js';
import { type ExecutionsAction, executionsReducer } from './executionsReducer.js';

export type DashboardAction =
	// from the backend
	| { type: 'engine/changed'; engine: EngineView }
	| { type: 'llmForward/changed'; forward: DashboardState['llmForward'] }
	| { type: 'services/replaced'; services: ServiceStatus[]; kind?: ServiceStatus['kind'] }
	| { type: 'service/updated'; status: ServiceStatus }
	| { type: 'stats/sampled'; samples: Record<string, ResourceSample> }
	| { type: 'stats/cleared'; service: string }
	| { type: 'logs/appended' }
	| { type: 'action/started'; service: string; kind: ServiceActionKind }
	| { type: 'action/progress'; service: string; progress: string }
	| { type: 'action/finished'; service: string; error?: string; message?: string }
	| { type: 'status/set'; status: StatusMessage | null }
	// from keys
	| { type: 'select/move'; delta: number }
	| { type: 'select/name'; name: string }
	| { type: 'logs/toggleScope' }
	| { type: 'follow/toggle'; bottomSeq: number | null }
	| { type: 'scroll/to'; anchorSeq: number | null }
	| { type: 'filter/open' }
	| { type: 'filter/input'; text: string }
	| { type: 'filter/apply' }
	| { type: 'filter/cancel' }
	| { type: 'timestamps/toggle' }
	| { type: 'wrap/toggle' }
	| { type: 'help/toggle' }
	| { type: 'handover/begin'; service: string; waitingFor: string | null }
	| { type: 'handover/phase'; phase: TerminalHandover['phase']; waitingFor?: string | null }
	| { type: 'handover/typed'; text: string }
	| { type: 'handover/end' }
	| { type: 'view/toggle' }
	| { type: 'executionLog/appended' }
	| ExecutionsAction;

export function dashboardReducer(state: DashboardState, action: DashboardAction): DashboardState {
	switch (action.type) {
		case 'llmForward/changed':
			return { ...state, llmForward: action.forward };
		case 'engine/changed': {
			const engine = { ...state.engine, ...action.engine };
			// an engine that answers again has no error left to show
			if (action.engine.reachable === true && action.engine.error === undefined) delete engine.error;
			// the same picture again (a resync, a reconnect) is not a change: no redraw
			if (sameFields(engine, state.engine)) return state;
			// nobody can tell what a container does while its engine is gone: unknown, not stopped
			if (engine.reachable === false && state.services.some((s) => s.kind === 'container' && s.state !== 'unknown')) {
				const services = state.services.map((s): ServiceStatus => (s.kind === 'container' ? { ...s, state: 'unknown', health: null } : s));
				return { ...state, engine, services };
			}
			return { ...state, engine };
		}
		case 'services/replaced': {
			// `kind` replaces only the rows of that kind (natives and containers come from different sources)
			const kept = action.kind ? state.services.filter((s) => s.kind !== action.kind) : [];
			const services = orderServices([...kept, ...action.services]);
			return withSelection({ ...state, services });
		}
		case 'service/updated': {
			const index = state.services.findIndex((s) => s.name === action.status.name);
			// re-inspections after events that change nothing shown (a resync) must not redraw
			if (index >= 0 && sameFields(state.services[index]!, action.status)) return state;
			const services = index < 0 ? orderServices([...state.services, action.status]) : state.services.map((s, i) => (i === index ? action.status : s));
			return withSelection({ ...state, services });
		}
		case 'stats/sampled': {
			const resources = { ...state.resources };
			for (const [service, sample] of Object.entries(action.samples)) resources[service] = addSample(resources[service], sample);
			return { ...state, resources };
		}
		case 'stats/cleared': {
			if (!(action.service in state.resources)) return state;
			const { [action.service]: _dropped, ...resources } = state.resources;
			return { ...state, resources };
		}
		case 'logs/appended':
			return { ...state, logsVersion: state.logsVersion + 1 };
		case 'action/started': {
			const entry: ActionInProgress = { kind: action.kind };
			return { ...state, actions: { ...state.actions, [action.service]: entry }, status: { kind: 'info', text: `${verb(action.kind)} ${action.service}…` } };
		}
		case 'action/progress': {
			const current = state.actions[action.service];
			if (!current) return state;
			return { ...state, actions: { ...state.actions, [action.service]: { ...current, progress: action.progress } } };
		}
		case 'action/finished': {
			const { [action.service]: finished, ...actions } = state.actions;
			let status: StatusMessage | null = state.status;
			if (action.error) status = { kind: 'error', text: `${finished ? verb(finished.kind).toLowerCase() : 'action on'} ${action.service} failed: ${action.error}` };
			else if (action.message) status = { kind: 'info', text: action.message };
			else if (finished) status = { kind: 'info', text: `${pastTense(finished.kind)} ${action.service}` };
			return { ...state, actions, status };
		}
		case 'status/set':
			return { ...state, status: action.status };
		case 'select/move': {
			if (state.services.length === 0) return state;
			const current = Math.max(
				0,
				state.services.findIndex((s) => s.name === state.selected),
			);
			const next = Math.min(state.services.length - 1, Math.max(0, current + action.delta));
			return selectName(state, state.services[next]!.name);
		}
		case 'select/name':
			return state.services.some((s) => s.name === action.name) ? selectName(state, action.name) : state;
		case 'logs/toggleScope':
			return { ...state, logScope: state.logScope === 'all' ? 'selected' : 'all', follow: true, anchorSeq: null };
		case 'follow/toggle':
			if (state.follow) return action.bottomSeq === null ? state : { ...state, follow: false, anchorSeq: action.bottomSeq };
			return { ...state, follow: true, anchorSeq: null };
		case 'scroll/to':
			return action.anchorSeq === null ? { ...state, follow: true, anchorSeq: null } : { ...state, follow: false, anchorSeq: action.anchorSeq };
		case 'filter/open':
			return { ...state, filter: { ...state.filter, editing: true }, help: false };
		case 'filter/input':
			return { ...state, filter: { ...state.filter, text: action.text } };
		case 'filter/apply':
			return { ...state, filter: { ...state.filter, editing: false } };
		case 'filter/cancel':
			return { ...state, filter: { text: '', editing: false } };
		case 'timestamps/toggle':
			return { ...state, timestamps: !state.timestamps };
		case 'wrap/toggle':
			return { ...state, wrap: !state.wrap };
		case 'help/toggle':
			return { ...state, help: !state.help };
		case 'handover/begin':
			// one handover at a time, and none over an open help or filter (keys reach neither while it lasts)
			return { ...state, help: false, handover: { service: action.service, phase: 'waiting', waitingFor: action.waitingFor, typed: '' } };
		case 'handover/phase': {
			if (!state.handover) return state;
			const waitingFor = action.waitingFor === undefined ? state.handover.waitingFor : action.waitingFor;
			if (state.handover.phase === action.phase && state.handover.waitingFor === waitingFor) return state;
			return { ...state, handover: { ...state.handover, phase: action.phase, waitingFor } };
		}
		case 'handover/typed':
			// once attached the shell reads the terminal itself
			if (!state.handover || state.handover.phase === 'attached') return state;
			return { ...state, handover: { ...state.handover, typed: state.handover.typed + action.text } };
		case 'handover/end':
			return state.handover ? { ...state, handover: null } : state;
		case 'view/toggle':
			return { ...state, view: state.view === 'services' ? 'executions' : 'services' };
		case 'executionLog/appended':
			return { ...state, executionLogVersion: state.executionLogVersion + 1 };
		case 'executions/open':
		case 'executions/close': {
			const executions = executionsReducer(state.executions, action);
			// the pane shows other lines now: start at their tail
			return executions === state.executions ? state : { ...state, executions, follow: true, anchorSeq: null };
		}
		default: {
			const executions = executionsReducer(state.executions, action);
			return executions === state.executions ? state : { ...state, executions };
		}
	}
}

/** Shallow equality of two flat records (a service row, the engine view). */
function sameFields<T extends object>(a: T, b: T): boolean {
	const keysA = Object.keys(a) as Array<keyof T>;
	if (keysA.length !== Object.keys(b).length) return false;
	return keysA.every((key) => Object.is(a[key], b[key]));
}

function selectName(state: DashboardState, name: string): DashboardState {
	if (state.selected === name) return state.selectionChosen ? state : { ...state, selectionChosen: true };
	// the selected service's log view changes with the selection: start it at the tail
	const resetScroll = state.logScope === 'selected' ? { follow: true, anchorSeq: null } : {};
	return { ...state, selected: name, selectionChosen: true, ...resetScroll };
}

/**
 * Keeps a valid selection when rows come and go. Until the user moves it, it is the first row: the
 * container's row may arrive before the natives' (the engine answered first) and the natives are then
 * put above it; the pointer stayed on the container, a different row from one start to the next.
 */
function withSelection(state: DashboardState): DashboardState {
	const first = state.services[0]?.name ?? null;
	if (!state.selectionChosen) return state.selected === first ? state : { ...state, selected: first };
	if (state.selected !== null && state.services.some((s) => s.name === state.selected)) return state;
	return { ...state, selected: first };
}

/** Natives first (they start first), then containers; arrival (config) order within a kind, so rows never jump. */
function orderServices(services: ServiceStatus[]): ServiceStatus[] {
	return [...services].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'native' ? -1 : 1));
}

function addSample(current: ServiceResources | undefined, sample: ResourceSample): ServiceResources {
	const cell = Math.floor(sample.timeMs / historyCellMs);
	const next: ServiceResources = { latest: sample, cpuHistory: current?.cpuHistory ?? [], memoryHistory: [], memoryCell: cell };
	// a stream's first frame has no CPU figure (NaN): it shows as '-' and leaves no mark in the sparkline
	if (Number.isFinite(sample.cpuPercent)) {
		next.cpuHistory = intoCell(current?.cpuHistory ?? [], current?.cpuCell === cell, sample.cpuPercent, Math.max);
		next.cpuCell = cell;
	} else if (current?.cpuCell !== undefined) next.cpuCell = current.cpuCell;
	next.memoryHistory = intoCell(current?.memoryHistory ?? [], current?.memoryCell === cell, sample.memoryBytes, (_last, value) => value);
	return next;
}

/** The history with `value` in its last cell (`same`: the cell of its last value, merged), at most historyCells long. */
function intoCell(history: number[], same: boolean, value: number, merge: (last: number, value: number) => number): number[] {
	if (same && history.length > 0) return [...history.slice(0, -1), merge(history.at(-1)!, value)];
	return [...history, value].slice(-historyCells);
}

function verb(kind: ServiceActionKind): string {
	return { start: 'Starting', stop: 'Stopping', restart: 'Restarting' }[kind];
}

function pastTense(kind: ServiceActionKind): string {
	return { start: 'Started', stop: 'Stopped', restart: 'Restarted' }[kind];
}
