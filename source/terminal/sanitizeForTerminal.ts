// The one gate between text that others wrote (container and native logs, an agent's answers, tool
// output, execution errors) and the operator's terminal. An agent is hostile (issue 10): a log line can
// carry OSC (window title, OSC 52 clipboard, hyperlinks), DCS/APC/PM strings, cursor movement, or a bare
// CR that draws a forged line over a real one. What may reach the terminal:
//   - colour on: printable text, tabs, and SGR sequences (`ESC [ params m`: colours and text attributes)
//   - colour off: printable text and tabs
// Every other escape sequence is removed (strip-ansi); every other control character that remains is
// shown in caret notation, as `cat -v` and `less` do (`\r` → `^M`, a lone ESC → `^[`, DEL → `^?`); C1
// controls (U+0080–U+009F, 8-bit CSI/OSC/DCS introducers) are removed.
import stripAnsi from 'strip-ansi';

/** Anything that needs work: a C0 control other than TAB, DEL, or a C1 control. */
const unsafe = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
const unsafeAll = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
/** SGR only: parameters are digits, `;` and `:` (38:2::r:g:b), bounded so a kept sequence stays small. */
const sgr = /\x1b\[[0-9;:]{0,64}m/g;
const c1All = /[\x7f-\x9f]/g;

function caret(c: string): string {
	const code = c.charCodeAt(0);
	if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
	return code === 0x7f ? '^?' : '';
}

function stripped(text: string): string {
	return stripAnsi(text).replace(unsafeAll, caret);
}

/** Whether every control character in `text` is the ESC of an SGR sequence (coloured log lines). */
function onlySgr(text: string): boolean {
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c > 0x9f) continue;
		if (c !== 0x1b || text.charCodeAt(i + 1) !== 0x5b) return false;
		let j = i + 2;
		const limit = j + 64;
		for (; j < text.length && j <= limit; j++) {
			const p = text.charCodeAt(j);
			if (!((p >= 0x30 && p <= 0x39) || p === 0x3b || p === 0x3a)) break;
		}
		if (j > limit || text.charCodeAt(j) !== 0x6d) return false;
		i = j;
	}
	return true;
}

/** Text that is safe to write to a terminal (see the top of this file). Line breaks are escaped too. */
export function sanitizeForTerminal(text: string, color: boolean): string {
	if (!unsafe.test(text)) return text;
	if (!color || !text.includes('\x1b[')) return stripped(text);
	if (onlySgr(text)) return text;
	let out = '';
	let last = 0;
	for (const match of text.matchAll(sgr)) {
		out += stripped(text.slice(last, match.index)) + match[0];
		last = match.index + match[0].length;
	}
	return out + stripped(text.slice(last));
}

/**
 * A JSON string literal of `text` for JSON-lines output (`--json`): lossless, and terminal-safe as it
 * stands (JSON escapes C0 controls; DEL and C1 controls are escaped here too). Without colour, ANSI
 * sequences are removed first, as docs/contract.md asks of output that is not a TTY.
 */
export function jsonStringForTerminal(text: string, color: boolean): string {
	return jsonForTerminal(color ? text : stripAnsi(text));
}

/** JSON.stringify for output to a terminal: DEL and C1 controls escaped (JSON leaves them raw). */
export function jsonForTerminal(value: unknown): string {
	const json = JSON.stringify(value);
	return unsafe.test(json) ? json.replace(c1All, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : json;
}
