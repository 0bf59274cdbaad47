// The keymap: each Command and the keys that trigger it (lazydocker / k9s / less conventions).
import type { Key } from 'ink';

export enum Command {
	SelectUp = 'selectUp',
	SelectDown = 'selectDown',
	Start = 'start',
	Stop = 'stop',
	Restart = 'restart',
	Shell = 'shell',
	ToggleLogScope = 'toggleLogScope',
	ToggleFollow = 'toggleFollow',
	PageUp = 'pageUp',
	PageDown = 'pageDown',
	ScrollTop = 'scrollTop',
	ScrollBottom = 'scrollBottom',
	Filter = 'filter',
	ClearFilter = 'clearFilter',
	ToggleTimestamps = 'toggleTimestamps',
	ToggleWrap = 'toggleWrap',
	Help = 'help',
	Quit = 'quit',
}

type KeyName = 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'escape' | 'return';

export interface KeyBinding {
	/** a printable key, as Ink reports it in `input` */
	input?: string;
	/** a named key */
	key?: KeyName;
	ctrl?: boolean;
}

export const keyBindings: Record<Command, KeyBinding[]> = {
	[Command.SelectUp]: [{ key: 'upArrow' }, { input: 'k' }],
	[Command.SelectDown]: [{ key: 'downArrow' }, { input: 'j' }],
	[Command.Start]: [{ input: 's' }],
	[Command.Stop]: [{ input: 'x' }],
	[Command.Restart]: [{ input: 'r' }],
	[Command.Shell]: [{ input: 'e' }],
	[Command.ToggleLogScope]: [{ input: 'a' }],
	[Command.ToggleFollow]: [{ input: 'f' }],
	[Command.PageUp]: [{ key: 'pageUp' }, { input: 'b', ctrl: true }, { input: 'u', ctrl: true }],
	[Command.PageDown]: [{ key: 'pageDown' }, { input: 'f', ctrl: true }, { input: 'd', ctrl: true }],
	[Command.ScrollTop]: [{ key: 'home' }, { input: 'g' }],
	[Command.ScrollBottom]: [{ key: 'end' }, { input: 'G' }],
	[Command.Filter]: [{ input: '/' }],
	[Command.ClearFilter]: [{ key: 'escape' }],
	[Command.ToggleTimestamps]: [{ input: 't' }],
	[Command.ToggleWrap]: [{ input: 'w' }],
	[Command.Help]: [{ input: '?' }],
	[Command.Quit]: [{ input: 'q' }, { input: 'c', ctrl: true }],
};

/** What the help overlay shows, in this order. */
export const commandHelp: Array<[Command, string, string]> = [
	[Command.SelectUp, '↑/k ↓/j', 'select a service'],
	[Command.Start, 's', 'start the selected service'],
	[Command.Stop, 'x', 'stop the selected service'],
	[Command.Restart, 'r', 'restart the selected service'],
	[Command.Shell, 'e', 'shell into the container'],
	[Command.ToggleLogScope, 'a', 'logs of all services / of the selected one'],
	[Command.ToggleFollow, 'f', 'follow the logs on/off'],
	[Command.PageUp, 'PgUp PgDn', 'scroll the logs (g/G: top/bottom)'],
	[Command.Filter, '/', 'filter: text, or /regex/ (Esc clears)'],
	[Command.ToggleTimestamps, 't', 'timestamps on/off'],
	[Command.ToggleWrap, 'w', 'wrap long lines on/off'],
	[Command.Help, '?', 'this help'],
	[Command.Quit, 'q Ctrl-C', 'quit'],
];

function matches(binding: KeyBinding, input: string, key: Key): boolean {
	if (binding.key) return key[binding.key] === true && !key.ctrl;
	if (Boolean(binding.ctrl) !== key.ctrl) return false;
	return input === binding.input;
}

export function commandFor(input: string, key: Key): Command | null {
	for (const [command, bindings] of Object.entries(keyBindings) as Array<[Command, KeyBinding[]]>) {
		if (bindings.some((binding) => matches(binding, input, key))) return command;
	}
	return null;
}
