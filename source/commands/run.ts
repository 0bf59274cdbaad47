// `stigmer run AGENT_FILE PROMPT [--file PATH]... [--detach] [--json]`: submit an execution and
// follow its events to the end. Exit 0 only when it succeeded; Ctrl-C cancels it (exit 130).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readAgentSpec } from '../agents/agentSpec.js';
import { ExecutionPrinter } from '../agents/ExecutionPrinter.js';
import { AgentRunnerApiError, AgentRunnerClient, isTerminal, type ExecutionEvent } from '../api/AgentRunnerClient.js';
import { loadConfig } from '../config/loadConfig.js';
import type { StigmerConfig } from '../config/types.js';
import { supervisorLoss, supervisorPid } from '../supervisor/SupervisorClient.js';
import { exitCodes } from '../contract.js';
import { UsageError, UserError, errorMessage } from '../errors.js';
import { jsonForTerminal, sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';
import type { Command, CommandContext } from './CommandContext.js';

/** How long the first Ctrl-C waits for the runner to report `cancelled` before giving up on it. */
const cancelWaitMs = 15_000;

/** Checks the files before anything is submitted: each must be a readable regular file, names unique. */
/** The longest upload name the agent-runner takes (validation.py, MAX_FILE_NAME_BYTES), as file systems do. */
const maxUploadNameBytes = 255;

const controlEscapes: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters as escapes (\n, \x07): a name shown in an error must not act on the terminal. */
function escapeControls(text: string): string {
	return text.replace(/[\x00-\x1f\x7f]/g, (c) => controlEscapes[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function checkUploads(files: string[]): string[] {
	const byName = new Map<string, string>();
	return files.map((file) => {
		let stat: ReturnType<typeof statSync>;
		try {
			stat = statSync(file);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`--file ${file}: no such file`);
			throw new UsageError(`--file ${file}: ${errorMessage(error)}`);
		}
		if (!stat.isFile()) throw new UsageError(`--file ${file}: not a regular file`, 'upload the files of a directory one by one (--file DIR/a --file DIR/b)');
		const name = path.basename(file);
		// the agent-runner's rule for upload names (validation.py, safe_filename): refused here, before any upload
		const control = /[\x00-\x1f\x7f]/.exec(name);
		if (control) {
			throw new UsageError(
				`--file "${escapeControls(file)}": the file name holds a control character (${escapeControls(control[0])} at position ${control.index + 1}), which the agent-runner refuses`,
				'rename the file (or copy it to a name without control characters) and upload that',
			);
		}
		if (Buffer.byteLength(name) > maxUploadNameBytes)
			throw new UsageError(`--file ${file}: the file name is longer than ${maxUploadNameBytes} bytes, which the agent-runner refuses`, 'rename the file and upload that');
		const other = byName.get(name);
		if (other !== undefined) throw new UsageError(`--file ${file}: another file is also named ${name} (${other})`, 'each file lands in the workspace under its base name; rename one of them');
		byName.set(name, file);
		return path.resolve(file);
	});
}

const run: Command<'run'> = async (ctx, { flags, input: positionals }) => {
	if (positionals.length !== 2) {
		throw new UsageError(
			positionals.length < 2 ? 'run needs AGENT_FILE and PROMPT' : `run takes AGENT_FILE and one PROMPT (quote the prompt); got ${positionals.length} arguments`,
			'see `stigmer run --help`',
		);
	}
	const [agentFile, promptArg] = positionals as [string, string];
	const agent = readAgentSpec(agentFile);
	const files = checkUploads(flags.file);
	const input = promptArg === '-' ? readFileSync(0, 'utf8') : promptArg;
	if (input.trim() === '') throw new UsageError('PROMPT is empty');

	const config = loadConfig(ctx.home);
	const client = AgentRunnerClient.forHome(ctx.home, config.agentRunner.port);
	const loss = supervisorLoss(ctx.home);
	if (loss) ctx.stderr.write(`stigmer: ${loss}\n`);
	try {
		return await follow(ctx, client, config, { agent, input, files }, { detach: flags.detach === true, json: flags.json === true });
	} finally {
		client.close();
	}
};

async function follow(
	ctx: CommandContext,
	client: AgentRunnerClient,
	config: StigmerConfig,
	request: Parameters<AgentRunnerClient['submit']>[0],
	options: { detach: boolean; json: boolean },
): Promise<number> {
	const stop = new AbortController();
	let interrupts = 0;
	let executionId: string | null = null;
	let cancelling: Promise<void> | null = null;
	let cancelTimer: NodeJS.Timeout | undefined;

	const requestCancel = (id: string) => {
		cancelling ??= client.cancel(id).then(
			() => undefined,
			(error: unknown) => {
				// 409: it ended on its own meanwhile; the stream shows how.
				if (error instanceof AgentRunnerApiError && error.statusCode === 409) return;
				ctx.stderr.write(`stigmer: could not cancel ${id}: ${errorMessage(error)}\n`);
				stop.abort();
			},
		);
	};
	const onSigint = () => {
		interrupts++;
		if (interrupts > 1 || options.detach) {
			stop.abort();
			return;
		}
		ctx.stderr.write(`\nstigmer: cancelling${executionId ? ` ${executionId}` : ''}… (Ctrl-C again to stop waiting)\n`);
		if (executionId) requestCancel(executionId);
		cancelTimer = setTimeout(() => stop.abort(), cancelWaitMs);
		cancelTimer.unref();
	};
	process.on('SIGINT', onSigint);

	try {
		let submitted: Awaited<ReturnType<AgentRunnerClient['submit']>>;
		try {
			submitted = await client.submit(request, options.detach ? stop.signal : undefined);
		} catch (error) {
			throw explainSubmitError(error);
		}
		executionId = submitted.id;
		if (options.detach) {
			ctx.stdout.write(options.json ? `${jsonForTerminal(submitted)}\n` : `${sanitizeForTerminal(submitted.id, false)}\n`);
			return exitCodes.ok;
		}
		// Ctrl-C while the request was in flight: the execution exists now, so cancel it.
		if (interrupts > 0) requestCancel(submitted.id);

		const printer = options.json ? null : new ExecutionPrinter(ctx.stdout, ctx.color);
		const notice = (text: string) => (printer ? printer.notice(text) : ctx.stderr.write(`stigmer: ${text}\n`));
		printer?.header(submitted.id, request.agent.name, request.files ?? []);

		let last: ExecutionEvent | null = null;
		try {
			for await (const item of client.events(submitted.id, { signal: stop.signal })) {
				if (item.kind === 'disconnected') {
					printer?.flush();
					notice(`lost the agent-runner (${item.reason}); reconnecting…`);
					continue;
				}
				if (item.kind === 'reconnected') {
					notice(`reconnected after ${(item.downMs / 1000).toFixed(1)} s; resuming after event ${item.after ?? 0}`);
					continue;
				}
				const event = item.event;
				if (printer) printer.event(event);
				else ctx.stdout.write(`${jsonForTerminal({ execution: submitted.id, id: event.id, type: event.type, data: event.data })}\n`);
				if (event.type === 'status') last = event;
			}
		} finally {
			printer?.flush();
		}

		if (stop.signal.aborted) {
			ctx.stderr.write(`stigmer: stopped waiting; ${submitted.id} may still be running (\`stigmer executions show ${submitted.id}\`)\n`);
			return exitCodes.interrupted;
		}
		const status = String(last?.data.status ?? '');
		if (!isTerminal(status)) throw new UserError(`the event stream of ${submitted.id} ended before the execution did`, exitCodes.failure, `see \`stigmer executions show ${submitted.id}\``);
		if (status === 'succeeded') return exitCodes.ok;
		const reason = typeof last?.data.error === 'string' ? last.data.error : '';
		if (interrupts > 0 && status === 'cancelled') return exitCodes.interrupted;
		if (options.json) ctx.stderr.write(`stigmer: execution ${submitted.id} ${status}${reason ? `: ${sanitizeForTerminal(reason, false)}` : ''}\n`);
		const hint = llmHint(ctx, config, reason);
		if (hint) ctx.stderr.write(`  ${hint}\n`);
		return exitCodes.failure;
	} finally {
		process.off('SIGINT', onSigint);
		clearTimeout(cancelTimer);
		// The cancel request must reach the runner before the client closes; a second Ctrl-C does not wait.
		if (interrupts < 2) await cancelling;
	}
}

function explainSubmitError(error: unknown): unknown {
	if (error instanceof AgentRunnerApiError && error.statusCode === 422 && error.field) {
		return new UsageError(`the agent-runner rejected the execution: ${error.apiMessage}`);
	}
	return error;
}

/** When the LLM is the problem, names what failed: the forward (and its owner), or the setting that points at the LLM. */
function llmHint(ctx: CommandContext, config: StigmerConfig, reason: string): string | null {
	if (!/\bLLM\b/.test(reason)) return null;
	if (/LLM forward .* is down/.test(reason)) {
		return supervisorPid(ctx.home) === null
			? 'the LLM forward runs in the stigmer supervisor, which is not running: `stigmer server start` starts both again (the container is kept)'
			: 'the supervisor runs again now: run the agent again';
	}
	const where = config.file ?? ctx.home.configFile;
	return `the LLM is agentRunner.llm.baseUrl (now ${config.agentRunner.llm.baseUrl}) and agentRunner.llm.model (now ${config.agentRunner.llm.model}) in ${where}; change them, then \`stigmer server restart agent-runner\``;
}

export default run;
