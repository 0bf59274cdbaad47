// What a key does, as a pure function of the dashboard's state: the key is read in the mode the
// screen is in (the terminal handed to a shell, typing a filter, confirming a cancel, help open, or
// normal) and, in normal mode, mapped
// to a Command (keyBindings) whose entry in `commandEffects` says what to do. The Dashboard carries
// the effect out; nothing here touches the store, the engine or the terminal, so every key's meaning
// is tested without rendering.
import type { Key } from 'ink';
import { isTerminal } from '../contract.js';
import type { LifecycleAction } from '../dashboard/serviceActions.js';
import type { DashboardAction } from '../store/dashboardReducer.js';
import type { DashboardState, TerminalHandover } from '../store/dashboardState.js';
import { Command, commandFor } from './keyBindings.js';

export type KeyEffect =
	| { type: 'none' }
	| { type: 'dispatch'; action: DashboardAction }
	| { type: 'quit' }
	| { type: 'service'; kind: LifecycleAction; name: string }
	| { type: 'shell' }
	/** scroll the pane: needs the visible window, which the Dashboard has */
	| { type: 'scroll'; to: 'pageUp' | 'pageDown' | 'top' }
	| { type: 'toggleFollow' }
	| { type: 'openExecution'; id: string }
	| { type: 'closeExecution' }
	| { type: 'cancelExecution'; id: string };

const none: KeyEffect = { type: 'none' };
const dispatch = (action: DashboardAction): KeyEffect => ({ type: 'dispatch', action });
const status = (text: string): KeyEffect => dispatch({ type: 'status/set', status: { kind: 'info', text } });

export function keyEffect(state: DashboardState, input: string, key: Key): KeyEffect {
	if (state.handover) return handoverKey(state.handover, input, key);
	if (state.filter.editing) return filterKey(state, input, key);
	const confirming = state.executions.confirmCancel;
	if (confirming !== null) {
		if (key.ctrl && input === 'c') return { type: 'quit' };
		if (input === 'y' || input === 'Y') return { type: 'cancelExecution', id: confirming };
		return dispatch({ type: 'executions/confirmCancel', id: null });
	}
	const command = commandFor(input, key);
	// any key closes the help, and does nothing else
	if (state.help && command !== Command.Quit) return dispatch({ type: 'help/toggle' });
	return command === null ? none : commandEffects[command](state);
}

/**
 * While the terminal is handed to a shell no key is a dashboard key: Esc or Ctrl-C cancel until the shell
 * has the terminal, every other key is kept for the shell (it reads them first), and once it is attached
 * it reads the terminal itself.
 */
function handoverKey(handover: TerminalHandover, input: string, key: Key): KeyEffect {
	if (handover.phase === 'attached') return none;
	if (key.escape || (key.ctrl && input === 'c')) return dispatch({ type: 'handover/end' });
	const text = terminalBytes(input, key);
	return text ? dispatch({ type: 'handover/typed', text }) : none;
}

const namedKeyBytes: Array<[keyof Key, string]> = [
	['return', '\r'],
	['tab', '\t'],
	['backspace', '\x7f'],
	['delete', '\x1b[3~'],
	['upArrow', '\x1b[A'],
	['downArrow', '\x1b[B'],
	['rightArrow', '\x1b[C'],
	['leftArrow', '\x1b[D'],
	['home', '\x1b[H'],
	['end', '\x1b[F'],
	['pageUp', '\x1b[5~'],
	['pageDown', '\x1b[6~'],
];

/** The bytes a terminal sends for a key as Ink reports it ('' for one it cannot spell, such as F1). */
export function terminalBytes(input: string, key: Key): string {
	if (key.tab && key.shift) return '\x1b[Z';
	for (const [name, bytes] of namedKeyBytes) if (key[name] === true) return bytes;
	if (key.ctrl) return /^[a-z]$/.test(input) ? String.fromCharCode(input.charCodeAt(0) - 96) : input === ' ' ? '\x00' : '';
	return key.meta && input ? `\x1b${input}` : input;
}

function filterKey(state: DashboardState, input: string, key: Key): KeyEffect {
	if (key.escape) return dispatch({ type: 'filter/cancel' });
	if (key.return) return dispatch({ type: 'filter/apply' });
	if (key.backspace || key.delete) return dispatch({ type: 'filter/input', text: state.filter.text.slice(0, -1) });
	if (key.ctrl && input === 'c') return { type: 'quit' };
	if (key.ctrl && input === 'u') return dispatch({ type: 'filter/input', text: '' });
	if (input && !key.ctrl && !key.meta && !/[\x00-\x1f]/.test(input)) return dispatch({ type: 'filter/input', text: state.filter.text + input });
	return none;
}

const inExecutions = (state: DashboardState) => state.view === 'executions';

function serviceAction(kind: LifecycleAction) {
	return (state: DashboardState): KeyEffect => {
		if (inExecutions(state)) return status(`${kind} acts on services: Tab shows them`);
		return state.selected ? { type: 'service', kind, name: state.selected } : none;
	};
}

const commandEffects: Record<Command, (state: DashboardState) => KeyEffect> = {
	[Command.SelectUp]: (s) => dispatch(inExecutions(s) ? { type: 'executions/move', delta: -1 } : { type: 'select/move', delta: -1 }),
	[Command.SelectDown]: (s) => dispatch(inExecutions(s) ? { type: 'executions/move', delta: 1 } : { type: 'select/move', delta: 1 }),
	[Command.ToggleView]: () => dispatch({ type: 'view/toggle' }),
	[Command.Open]: (s) => (inExecutions(s) && s.executions.selectedId !== null ? { type: 'openExecution', id: s.executions.selectedId } : none),
	[Command.Back]: (s) => (s.executions.detail !== null ? { type: 'closeExecution' } : s.filter.text ? dispatch({ type: 'filter/cancel' }) : none),
	[Command.Start]: serviceAction('start'),
	[Command.Restart]: serviceAction('restart'),
	[Command.Stop]: (s) => {
		if (!inExecutions(s)) return serviceAction('stop')(s);
		const row = s.executions.rows.find((r) => r.id === s.executions.selectedId);
		if (!row) return none;
		if (isTerminal(row.status)) return status(`${row.id} already ended: ${row.status}`);
		return dispatch({ type: 'executions/confirmCancel', id: row.id });
	},
	[Command.Shell]: () => ({ type: 'shell' }),
	[Command.ToggleLogScope]: () => dispatch({ type: 'logs/toggleScope' }),
	[Command.ToggleFollow]: () => ({ type: 'toggleFollow' }),
	[Command.PageUp]: () => ({ type: 'scroll', to: 'pageUp' }),
	[Command.PageDown]: () => ({ type: 'scroll', to: 'pageDown' }),
	[Command.ScrollTop]: () => ({ type: 'scroll', to: 'top' }),
	[Command.ScrollBottom]: () => dispatch({ type: 'scroll/to', anchorSeq: null }),
	[Command.Filter]: () => dispatch({ type: 'filter/open' }),
	[Command.ToggleTimestamps]: () => dispatch({ type: 'timestamps/toggle' }),
	[Command.ToggleWrap]: () => dispatch({ type: 'wrap/toggle' }),
	[Command.Help]: () => dispatch({ type: 'help/toggle' }),
	[Command.Quit]: () => ({ type: 'quit' }),
};

/** The Key of one character out of a chunk of several (keys typed faster than a frame, tmux send-keys). */
export function singleKey(char: string, chunk: Key): Key {
	return { ...chunk, return: char === '\r' || char === '\n', backspace: char === '\x7f' || char === '\b', tab: char === '\t', escape: false };
}

/** Splits a chunk of typed keys into one (input, key) per command. */
export function splitKeys(input: string, key: Key): Array<[string, Key]> {
	if (input.length > 1 && !key.ctrl && !key.meta && !input.startsWith('\x1b')) return Array.from(input, (char) => [char, singleKey(char, key)]);
	return [[input, key]];
}
