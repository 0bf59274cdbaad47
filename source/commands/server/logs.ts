// `stigmer server logs [SERVICE...] [-f] [-n N] [--since T] [--timestamps] [--json]` (docs/contract.md, "Logs").
// The reading lives in source/logs/ (shared with the dashboard); this file parses arguments, formats,
// and writes with backpressure.
// - A stopped stack: what is stored is printed (native files; a stopped container's logs), then stderr
//   says which service is down and that the stack is down. With -f the command keeps waiting for the
//   services to come back (and says so on stderr) until Ctrl-C.
// - Exit status: 0 (also for Ctrl-C and a closed pipe), 2 for usage errors, 3 when the engine is
//   unreachable and agent-runner was asked for without -f (the native logs are printed first).
// - Without -f and --json, when no selected native service has a log file, the container's history
//   takes a fast path (logs/containerTextHistory.ts: same output, sooner); it falls back to readLogs for
//   anything unusual. DockerApi and readLogs are loaded only for the general path.
//   STIGMER_LOGS_FAST_PATH=0 turns the fast path off (tests compare both).
import { statSync } from 'node:fs';
import { agentRunnerService, exitCodes } from '../../contract.js';
import { loadConfig } from '../../config/loadConfig.js';
import type { EngineUnreachableError } from '../../engine/DockerApi.js';
import { UsageError } from '../../errors.js';
import { containerTextHistory, lookUpContainer, type ContainerLookup } from '../../logs/containerTextHistory.js';
import { LogFormatter } from '../../logs/LogFormatter.js';
import type { LogNotice } from '../../logs/LogNotice.js';
import { parseSince } from '../../logs/parseSince.js';
import { readOomRecord } from '../../home/OomRecord.js';
import { oomNote, withOom } from '../../agentRunner/oomStatus.js';
import type { CommandArgs, CommandContext } from '../CommandContext.js';

/** Lines per write: few large writes instead of one syscall per line, and printing starts early. */
const linesPerWrite = 16_384;

export default async function logs(ctx: CommandContext, { flags: values, input: positionals }: CommandArgs<'server logs'>): Promise<number> {
	const follow = values.follow === true;
	const json = values.json === true;
	// the fast path's container lookup goes out to the engine before the config is read
	const lookup =
		!follow && !json && (positionals.length === 0 || (positionals as string[]).includes(agentRunnerService)) && process.env.STIGMER_LOGS_FAST_PATH !== '0'
			? lookUpContainer(ctx.home.hash, agentRunnerService)
			: null;
	try {
		return await run(ctx, values, positionals, lookup);
	} finally {
		lookup?.abort();
	}
}

async function run(
	ctx: CommandContext,
	values: { follow?: boolean; tail?: string; since?: string; timestamps?: boolean; json?: boolean },
	positionals: string[],
	lookup: ContainerLookup | null,
): Promise<number> {
	const known = [agentRunnerService, ...loadConfig(ctx.home).services.map((s) => s.name)];
	const unknown = positionals.filter((name) => !known.includes(name));
	if (unknown.length > 0) {
		throw new UsageError(`server logs: unknown service${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`, `known services: ${known.join(', ')}`);
	}
	const services = positionals.length > 0 ? [...new Set(positionals)] : known;
	const tail = parseTail(values.tail);
	let since: string | undefined;
	if (values.since !== undefined) {
		since = parseSince(values.since) ?? undefined;
		if (since === undefined)
			throw new UsageError(`server logs: --since "${values.since}" is neither a duration nor an RFC 3339 time`, 'for example --since 10m, --since 2h, --since 2026-01-22T10:00:00Z');
	}
	const follow = values.follow === true;
	const timestamps = values.timestamps === true;

	const controller = new AbortController();
	const stop = () => controller.abort();
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	const out = new Output(ctx.stdout, stop);
	const formatter = new LogFormatter({ json: values.json === true, timestamps, color: ctx.color, services });

	if (lookup && services.includes(agentRunnerService) && services.every((s) => s === agentRunnerService || !hasLogFile(ctx.home.logFile(s)))) {
		let fast: Awaited<ReturnType<typeof containerTextHistory>>;
		try {
			fast = await containerTextHistory(lookup, { service: agentRunnerService, tail, since, timestamps, color: ctx.color, formatter, signal: controller.signal });
		} finally {
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
		}
		if (controller.signal.aborted) return exitCodes.ok;
		if (fast) {
			for (const chunk of fast.output) {
				await out.write(chunk);
				if (out.closed) return exitCodes.ok;
			}
			reportDown(ctx, fast.notices, null);
			reportOom(ctx);
			return exitCodes.ok;
		}
		process.once('SIGINT', stop);
		process.once('SIGTERM', stop);
	}
	lookup?.abort();

	const { DockerApi, EngineUnreachableError } = await import('../../engine/DockerApi.js');
	const { readLogs } = await import('../../logs/readLogs.js');
	let api: InstanceType<typeof DockerApi> | null = null;
	let engineError: EngineUnreachableError | null = null;
	if (services.includes(agentRunnerService)) {
		try {
			api = await DockerApi.connect(process.env, 3000);
		} catch (error) {
			if (!(error instanceof EngineUnreachableError)) throw error;
			engineError = error;
		}
	}
	if (follow && services.includes(agentRunnerService)) reportOom(ctx);
	const notices: LogNotice[] = [];
	const onNotice = (notice: LogNotice) => {
		if (!follow) notices.push(notice);
		else if (('following' in notice && notice.following) || notice.kind === 'container-attached') ctx.stderr.write(`stigmer: ${describe(notice)}\n`);
	};
	try {
		for await (const batch of readLogs({ api, home: ctx.home, services, tail, since, follow, signal: controller.signal, onNotice, historyBatch: linesPerWrite })) {
			await out.write(formatter.formatBatch(batch));
			if (out.closed) break;
		}
	} finally {
		process.off('SIGINT', stop);
		process.off('SIGTERM', stop);
		api?.close();
	}
	if (out.closed || follow) return exitCodes.ok;
	reportDown(ctx, notices, engineError);
	if (services.includes(agentRunnerService)) reportOom(ctx);
	return engineError ? exitCodes.engineUnreachable : exitCodes.ok;
}

/** Whether a native service has a current log file (its history is then read by readLogs). */
function hasLogFile(file: string): boolean {
	try {
		return statSync(file, { throwIfNoEntry: false }) !== undefined;
	} catch {
		return true;
	}
}

function parseTail(value: string | undefined): number | undefined {
	if (value === undefined || value === 'all') return undefined;
	if (!/^\d+$/.test(value)) throw new UsageError(`server logs: -n needs a number of lines (or "all"), not "${value}"`);
	return Number(value);
}

function describe(notice: LogNotice): string {
	const following = 'following' in notice && notice.following === true;
	const wait = following ? '; waiting for it to start' : '';
	switch (notice.kind) {
		case 'engine-unreachable':
			return `${notice.service}: the container engine is unreachable${notice.message ? ` (${notice.message})` : ''}${following ? '; retrying' : ''}`;
		case 'no-container':
			return `${notice.service}: no container${wait}`;
		case 'container-stopped':
			return `${notice.service}: the container is stopped${wait}`;
		case 'container-attached':
			return `${notice.service}: following the container ${notice.id.slice(0, 12)}`;
		case 'no-log-file':
			return `${notice.service}: no log file yet${following ? '; waiting for one' : ''}`;
		case 'log-rotated':
			return `${notice.service}: log file rotated`;
		case 'log-truncated':
			return `${notice.service}: log file truncated; reading it from the start`;
	}
}

/** What the home knows of OOM kills in the container (kept across the restart policy's starts; agentRunner/oomStatus.ts). */
function reportOom(ctx: CommandContext): void {
	const record = readOomRecord(ctx.home);
	if (!record) return;
	const note = oomNote(withOom({ name: agentRunnerService, kind: 'container', state: 'running', id: record.containerId }, record));
	if (note) ctx.stderr.write(`stigmer: ${agentRunnerService}: ${note}\n`);
}

/** After the stored lines: why agent-runner showed nothing new, and that the stack is down. */
function reportDown(ctx: CommandContext, notices: LogNotice[], engineError: EngineUnreachableError | null): void {
	const down = notices.filter((n) => n.kind === 'no-container' || n.kind === 'container-stopped' || (n.kind === 'engine-unreachable' && !engineError));
	for (const notice of down) ctx.stderr.write(`stigmer: ${describe(notice)}\n`);
	if (engineError) {
		ctx.stderr.write(`stigmer: ${engineError.message}; agent-runner's logs are not available\n`);
		if (engineError.hint) ctx.stderr.write(`  ${engineError.hint}\n`);
	}
	if (down.length > 0 || engineError) ctx.stderr.write('stigmer: the stack is down; shown: the stored logs (start it with `stigmer server start`)\n');
}

/** stdout with backpressure: waits for 'drain' when the stream buffers; a closed pipe ends quietly. */
class Output {
	closed = false;

	constructor(
		private readonly stream: NodeJS.WriteStream,
		private readonly onClose: () => void,
	) {
		stream.on('error', () => this.close());
		stream.on('close', () => this.close());
	}

	private close(): void {
		if (this.closed) return;
		this.closed = true;
		this.onClose();
	}

	async write(text: string | Buffer): Promise<void> {
		if (this.closed || text.length === 0) return;
		if (this.stream.destroyed || this.stream.writableEnded) return this.close();
		if (this.stream.write(text)) return;
		await new Promise<void>((resolve) => {
			const done = () => {
				this.stream.off('drain', done);
				this.stream.off('close', done);
				this.stream.off('error', done);
				resolve();
			};
			this.stream.on('drain', done);
			this.stream.on('close', done);
			this.stream.on('error', done);
		});
	}
}
