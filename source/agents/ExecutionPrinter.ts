// Human-readable rendering of an execution's events for `stigmer run`: model turns, tool calls
// with their arguments, folded tool output, the final answer and the outcome. Colour only when asked.
// Everything the agent wrote is hostile: every line goes out through the terminal sanitiser (only our
// own SGR colours, or an agent's, survive, and only with colour on).
import type { ExecutionEvent } from '../api/AgentRunnerClient.js';
import { sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';

export interface FoldOptions {
	head?: number;
	tail?: number;
	/** characters per line before it is cut */
	width?: number;
}

/** Keeps the first `head` and last `tail` lines of long text, with `… N more lines` between. */
export function foldLines(text: string, { head = 8, tail = 4, width = 400 }: FoldOptions = {}): string[] {
	const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
	const cut = (line: string) => (line.length > width ? `${line.slice(0, width)}… (${line.length - width} more characters)` : line);
	if (lines.length <= head + tail + 1) return lines.map(cut);
	return [...lines.slice(0, head).map(cut), `… ${lines.length - head - tail} more lines`, ...lines.slice(-tail).map(cut)];
}

const styles = { dim: [2, 22], bold: [1, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], magenta: [35, 39], cyan: [36, 39] } as const;
type Style = keyof typeof styles;

export class ExecutionPrinter {
	private pendingTurn: ExecutionEvent | null = null;
	private times = new Map<string, number>();

	constructor(
		private readonly out: { write(text: string): unknown },
		private readonly color: boolean,
	) {}

	paint(style: Style, text: string): string {
		if (!this.color) return text;
		const [open, close] = styles[style];
		return `\u001b[${open}m${text}\u001b[${close}m`;
	}

	private line(text = ''): void {
		this.out.write(`${sanitizeForTerminal(text, this.color)}\n`);
	}

	private block(lines: string[], indent: string, style?: Style): void {
		for (const l of lines) this.line(`${indent}${style ? this.paint(style, l) : l}`);
	}

	header(id: string, agent: string, files: string[]): void {
		const what = files.length > 0 ? ` with ${files.length} file${files.length === 1 ? '' : 's'}` : '';
		this.line(`${this.paint('bold', `agent ${agent}`)}${what} ${this.paint('dim', `· ${id}`)}`);
	}

	notice(text: string): void {
		this.line(this.paint('yellow', `! ${text}`));
	}

	/** Renders one event. A model turn waits for the next event: when that is `final` with the same text it is shown once, as the answer. */
	event(event: ExecutionEvent): void {
		const pending = this.pendingTurn;
		this.pendingTurn = null;
		if (pending && !(event.type === 'final' && event.data.answer === pending.data.text)) this.modelTurn(pending);
		switch (event.type) {
			case 'status':
				this.status(event.data);
				break;
			case 'model_turn':
				this.pendingTurn = event;
				break;
			case 'tool_call':
				this.toolCall(event.data);
				break;
			case 'tool_result':
				this.toolResult(event.data);
				break;
			case 'llm_retry':
				this.llmRetry(event.data);
				break;
			case 'budget_exceeded':
				break; // the terminal status that follows carries the same message
			case 'final':
				this.line(this.paint('bold', '── answer ──'));
				this.block(
					String(event.data.answer ?? '')
						.replace(/\n+$/, '')
						.split('\n'),
					'',
				);
				break;
			default:
				this.line(this.paint('dim', `${event.type} ${JSON.stringify(event.data)}`));
		}
	}

	/** Shows a held model turn (the stream ended or dropped). */
	flush(): void {
		if (this.pendingTurn) this.modelTurn(this.pendingTurn);
		this.pendingTurn = null;
	}

	private modelTurn(event: ExecutionEvent): void {
		const text = String(event.data.text ?? '').trim();
		if (!text) return;
		const step = event.data.step !== undefined ? this.paint('dim', ` (step ${event.data.step})`) : '';
		const lines = foldLines(text, { head: 12, tail: 4 });
		this.line(`${this.paint('magenta', 'model')}${step} ${lines[0]}`);
		this.block(lines.slice(1), '  ');
	}

	/** `llm_retry {step, attempt, max_attempts, reason, delay_seconds}`: the runner waits, then calls the LLM again. */
	private llmRetry(data: Record<string, unknown>): void {
		const attempt = Number(data.attempt);
		const retries = Number(data.max_attempts) - 1;
		const delay = Number(data.delay_seconds);
		const which = Number.isFinite(attempt) && Number.isFinite(retries) ? ` ${attempt - 1} of ${retries}` : '';
		const when = Number.isFinite(delay) ? ` in ${delay.toFixed(1)} s` : '';
		this.line(this.paint('yellow', `! LLM ${String(data.reason ?? 'failed')}: retry${which}${when}`));
	}

	private toolCall(data: Record<string, unknown>): void {
		const name = String(data.name ?? '?');
		const args = (data.arguments && typeof data.arguments === 'object' ? data.arguments : {}) as Record<string, unknown>;
		const inline: string[] = [];
		const blocks: Array<[string, string]> = [];
		for (const [key, value] of Object.entries(args)) {
			if (typeof value === 'string' && (value.includes('\n') || value.length > 100)) blocks.push([key, value]);
			else inline.push(`${key}=${JSON.stringify(value)}`);
		}
		this.line(`${this.paint('cyan', `→ ${name}`)} ${inline.join(' ')}`.trimEnd());
		for (const [key, value] of blocks) {
			this.line(`  ${this.paint('dim', `${key}:`)}`);
			this.block(foldLines(value, { head: 6, tail: 2 }), '  │ ', 'dim');
		}
	}

	private toolResult(data: Record<string, unknown>): void {
		const ok = data.ok === true;
		const mark = ok ? this.paint('green', '✓') : this.paint('red', '✗');
		const facts: string[] = [];
		if (typeof data.exit_code === 'number') facts.push(`exit ${data.exit_code}`);
		if (data.timed_out === true) facts.push('timed out');
		const output = String(data.output ?? '');
		// run_command's output is "exit code N\nstdout:\n…\nstderr:\n…": show the streams, stderr only when present.
		const command = typeof data.exit_code === 'number' || data.timed_out === true ? /^[^\n]*\nstdout:\n([\s\S]*?)\nstderr:\n([\s\S]*)$/.exec(output) : null;
		if (command) {
			const [, out = '', err = ''] = command;
			this.line(`  ${mark} ${facts.join(', ')}`);
			if (out.trim()) this.block(foldLines(out), '    ');
			if (err.trim()) {
				this.line(`    ${this.paint('yellow', 'stderr:')}`);
				this.block(foldLines(err, { head: 6, tail: 4 }), '    ');
			}
			return;
		}
		const lines = output.trim() === '' ? [] : foldLines(output);
		if (lines.length <= 1 && facts.length === 0) {
			this.line(`  ${mark} ${lines[0] ?? this.paint('dim', '(no output)')}`);
			return;
		}
		this.line(`  ${mark} ${facts.join(', ')}`.trimEnd());
		this.block(lines, '    ');
	}

	private status(data: Record<string, unknown>): void {
		const status = String(data.status ?? '?');
		const time = typeof data.time === 'string' ? Date.parse(data.time) : NaN;
		if (!Number.isNaN(time)) this.times.set(status, time);
		switch (status) {
			case 'queued':
			case 'running':
				this.line(this.paint('dim', `· ${status}`));
				break;
			case 'succeeded':
				this.line(this.paint('green', `✓ succeeded${this.took()}`));
				break;
			default: {
				const [first = '', ...more] = typeof data.error === 'string' ? foldLines(data.error) : [];
				this.line(this.paint('red', `✗ ${status}${this.took()}${first ? `: ${first}` : ''}`));
				this.block(more, '  ');
			}
		}
	}

	private took(): string {
		const start = this.times.get('running') ?? this.times.get('queued');
		const end = [...this.times.values()].at(-1);
		if (start === undefined || end === undefined || end < start) return '';
		const ms = end - start;
		return ms < 1000 ? ` in ${ms} ms` : ` in ${(ms / 1000).toFixed(1)} s`;
	}
}
