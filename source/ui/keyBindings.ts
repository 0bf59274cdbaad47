// The keymap, the one table of keys: each Command, the keys that trigger it and what it does. The help
// overlay (?) is generated from it, so a key bound here is a key listed there (lazydocker / k9s / less
// conventions).
import type { Key } from 'ink';

export enum Command {
	SelectUp = 'selectUp',
	SelectDown = 'selectDown',
	ToggleView = 'toggleView',
	Open = 'open',
	Back = 'back',
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
	ToggleTimestamps = 'toggleTimestamps',
	ToggleWrap = 'toggleWrap',
	Help = 'help',
	Quit = 'quit',
}

type KeyName = 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'escape' | 'return' | 'tab';

export interface KeyBinding {
	/** a printable key, as Ink reports it in `input` */
	input?: string;
	/** a named key */
	key?: KeyName;
	ctrl?: boolean;
}

export interface CommandBinding {
	command: Command;
	keys: KeyBinding[];
	/** what the help says it does */
	help: string;
}

/** Every binding, in the order the help lists them. */
export const keyBindings: readonly CommandBinding[] = [
	{ command: Command.SelectUp, keys: [{ key: 'upArrow' }, { input: 'k' }], help: 'select the row above (a service or an execution)' },
	{ command: Command.SelectDown, keys: [{ key: 'downArrow' }, { input: 'j' }], help: 'select the row below' },
	{ command: Command.ToggleView, keys: [{ key: 'tab' }], help: 'services / executions of the agent-runner' },
	{ command: Command.Open, keys: [{ key: 'return' }], help: "open the selected execution's events in the log pane" },
	{ command: Command.Back, keys: [{ key: 'escape' }], help: 'back from the events to the logs; else clear the filter' },
	{ command: Command.Start, keys: [{ input: 's' }], help: 'start the selected service' },
	{ command: Command.Stop, keys: [{ input: 'x' }], help: 'stop the selected service / cancel the selected execution' },
	{ command: Command.Restart, keys: [{ input: 'r' }], help: 'restart the selected service' },
	{ command: Command.Shell, keys: [{ input: 'e' }], help: 'shell into the container' },
	{ command: Command.ToggleLogScope, keys: [{ input: 'a' }], help: 'logs of all services / of the selected one' },
	{ command: Command.ToggleFollow, keys: [{ input: 'f' }], help: 'follow the pane on/off' },
	{ command: Command.PageUp, keys: [{ key: 'pageUp' }, { input: 'b', ctrl: true }, { input: 'u', ctrl: true }], help: 'scroll the pane up a page' },
	{ command: Command.PageDown, keys: [{ key: 'pageDown' }, { input: 'f', ctrl: true }, { input: 'd', ctrl: true }], help: 'scroll the pane down a page' },
	{ command: Command.ScrollTop, keys: [{ key: 'home' }, { input: 'g' }], help: 'the first line' },
	{ command: Command.ScrollBottom, keys: [{ key: 'end' }, { input: 'G' }], help: 'the last line, following' },
	{ command: Command.Filter, keys: [{ input: '/' }], help: 'filter: text, or /regex/ (Esc clears)' },
	{ command: Command.ToggleTimestamps, keys: [{ input: 't' }], help: 'timestamps on/off' },
	{ command: Command.ToggleWrap, keys: [{ input: 'w' }], help: 'wrap long lines on/off' },
	{ command: Command.Help, keys: [{ input: '?' }], help: 'this help' },
	{ command: Command.Quit, keys: [{ input: 'q' }, { input: 'c', ctrl: true }], help: 'quit' },
];

const keyNames: Record<KeyName, string> = { upArrow: '↑', downArrow: '↓', pageUp: 'PgUp', pageDown: 'PgDn', home: 'Home', end: 'End', escape: 'Esc', return: 'Enter', tab: 'Tab' };

/** How the help writes a key: `k`, `↑`, `Ctrl-B`, `Home`. */
export function keyLabel(binding: KeyBinding): string {
	const name = binding.key ? keyNames[binding.key] : (binding.input ?? '');
	return binding.ctrl ? `Ctrl-${name.toUpperCase()}` : name;
}

/** The help's lines: keys and text, one per command, from the table above. */
export function helpLines(): Array<{ command: Command; keys: string; text: string }> {
	return keyBindings.map((b) => ({ command: b.command, keys: b.keys.map(keyLabel).join(' '), text: b.help }));
}

function matches(binding: KeyBinding, input: string, key: Key): boolean {
	if (binding.key) return key[binding.key] === true && !key.ctrl;
	if (Boolean(binding.ctrl) !== key.ctrl) return false;
	return input === binding.input;
}

export function commandFor(input: string, key: Key): Command | null {
	for (const binding of keyBindings) {
		if (binding.keys.some((k) => matches(k, input, key))) return binding.command;
	}
	return null;
}
