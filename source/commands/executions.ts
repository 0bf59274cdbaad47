// `stigmer executions [list] [--json]`, `executions show ID [--json]`, `executions cancel ID`.
import { AgentRunnerApiError, AgentRunnerClient, type Execution } from '../api/AgentRunnerClient.js';
import { exitCodes } from '../contract.js';
import { UsageError, UserError } from '../errors.js';
import { jsonForTerminal, sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';
import type { Command, CommandContext } from './CommandContext.js';

const statusStyle: Record<string, number> = { queued: 33, running: 36, succeeded: 32, failed: 31, cancelled: 35, interrupted: 31 };

function paint(ctx: CommandContext, code: number | undefined, text: string): string {
	return ctx.color && code !== undefined ? `\u001b[${code}m${text}\u001b[39m` : text;
}

/** Wall time between two RFC 3339 stamps, `1.2 s`, `3 min 4 s`; empty when unknown. */
export function duration(from: string | null, to: string | null, now = Date.now()): string {
	if (!from) return '';
	const start = Date.parse(from);
	const end = to ? Date.parse(to) : now;
	if (Number.isNaN(start) || Number.isNaN(end)) return '';
	const seconds = Math.max(0, (end - start) / 1000);
	if (seconds < 60) return `${seconds.toFixed(1)} s`;
	if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
	return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function localTime(stamp: string | null): string {
	if (!stamp) return '';
	const date = new Date(stamp);
	if (Number.isNaN(date.getTime())) return stamp;
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Agent-written text on one line, safe for the terminal. */
function oneLine(text: string): string {
	return sanitizeForTerminal(text.replace(/\s+/g, ' ').trim(), false);
}

/** Agent-written text, safe for the terminal (no colour: these are tables). */
const plain = (text: string) => sanitizeForTerminal(text, false);

/** Rows padded to their columns; the last column is cut to the terminal width when there is one. */
export function formatTable(rows: string[][], width?: number): string[] {
	const widths: number[] = [];
	for (const row of rows) {
		row.forEach((cell, i) => {
			widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
		});
	}
	return rows.map((row) => {
		let line = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
		if (width && [...line].length > width) line = `${[...line].slice(0, Math.max(0, width - 1)).join('')}…`;
		return line.trimEnd();
	});
}

async function list(ctx: CommandContext, client: AgentRunnerClient, json: boolean, limit: number): Promise<number> {
	const executions = await client.list(limit);
	if (json) {
		ctx.stdout.write(`${jsonForTerminal(executions)}\n`);
		return exitCodes.ok;
	}
	if (executions.length === 0) {
		ctx.stdout.write('no executions yet; start one with `stigmer run AGENT_FILE PROMPT`\n');
		return exitCodes.ok;
	}
	const rows = [['ID', 'STATUS', 'AGENT', 'CREATED', 'DURATION', 'INPUT']];
	for (const e of executions) rows.push([plain(e.id), plain(e.status), oneLine(e.agent?.name ?? ''), localTime(e.created_at), duration(e.started_at, e.finished_at), oneLine(e.input)]);
	const lines = formatTable(rows, ctx.stdout.isTTY ? ctx.stdout.columns : undefined);
	lines.forEach((line, i) => {
		if (i === 0) line = paint(ctx, 1, line);
		else {
			const status = executions[i - 1]!.status;
			line = line.replace(` ${status} `, ` ${paint(ctx, statusStyle[status], status)} `);
		}
		ctx.stdout.write(`${line}\n`);
	});
	return exitCodes.ok;
}

export function describeExecution(e: Execution, now = Date.now()): string {
	const rows: Array<[string, string]> = [
		['id', plain(e.id)],
		['status', plain(e.status)],
		['agent', oneLine(`${e.agent?.name ?? '?'}${e.agent?.model ? ` (model ${e.agent.model})` : ''}`)],
		['input', oneLine(e.input)],
		['files', e.files.length > 0 ? oneLine(e.files.join(', ')) : '-'],
		['created', localTime(e.created_at)],
	];
	if (e.started_at) rows.push(['started', localTime(e.started_at)]);
	if (e.finished_at) rows.push(['finished', localTime(e.finished_at)]);
	const took = duration(e.started_at, e.finished_at, now);
	if (took) rows.push([e.finished_at ? 'took' : 'running for', took]);
	if (e.error) rows.push(['error', oneLine(e.error)]);
	let text = formatTable(rows.map(([k, v]) => [k, v])).join('\n');
	if (e.result)
		text += `\nresult:\n${e.result
			.replace(/[\r\n]+$/, '')
			.split(/\r?\n/)
			.map((line) => `  ${plain(line)}`)
			.join('\n')}`;
	return `${text}\n`;
}

async function show(ctx: CommandContext, client: AgentRunnerClient, id: string, json: boolean): Promise<number> {
	const execution = await notFound(id, client.get(id));
	ctx.stdout.write(json ? `${JSON.stringify(execution)}\n` : describeExecution(execution));
	return exitCodes.ok;
}

async function cancel(ctx: CommandContext, client: AgentRunnerClient, id: string, json: boolean): Promise<number> {
	try {
		const answer = await notFound(id, client.cancel(id));
		ctx.stdout.write(json ? `${jsonForTerminal(answer)}\n` : `cancelling ${plain(id)}\n`);
		return exitCodes.ok;
	} catch (error) {
		if (error instanceof AgentRunnerApiError && error.statusCode === 409) throw new UserError(error.apiMessage);
		throw error;
	}
}

async function notFound<T>(id: string, promise: Promise<T>): Promise<T> {
	try {
		return await promise;
	} catch (error) {
		if (error instanceof AgentRunnerApiError && error.statusCode === 404) throw new UserError(`no execution ${id}`, exitCodes.failure, '`stigmer executions` lists them');
		throw error;
	}
}

const executions: Command<'executions'> = async (ctx, { flags, input }) => {
	const [sub = 'list', ...rest] = input;
	const json = flags.json === true;
	const one = (): string => {
		if (rest.length !== 1) throw new UsageError(`executions ${sub} needs one execution ID`, 'see `stigmer executions --help`');
		return rest[0]!;
	};
	let limit = 100;
	if (flags.limit !== undefined) {
		limit = Number(flags.limit);
		if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be an integer from 1 to 1000');
	}
	if (!['list', 'show', 'cancel'].includes(sub)) throw new UsageError(`unknown subcommand "executions ${sub}"`, 'one of: list, show ID, cancel ID');
	if (sub === 'list' && rest.length > 0) throw new UsageError('executions list takes no arguments');
	const id = sub === 'list' ? '' : one();
	const client = AgentRunnerClient.forHome(ctx.home);
	try {
		if (sub === 'show') return await show(ctx, client, id, json);
		if (sub === 'cancel') return await cancel(ctx, client, id, json);
		return await list(ctx, client, json, limit);
	} finally {
		client.close();
	}
};

export default executions;
