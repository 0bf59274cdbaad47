import { exitCodes } from '../../contract.js';
import { stopStack } from '../../stack/Stack.js';
import { type CommandContext, parseCommandArgs } from '../CommandContext.js';
import { ProgressReporter } from '../ProgressReporter.js';
import { parseTimeout } from './start.js';

const usage = `
  Usage: stigmer server stop [SERVICE...] [--timeout S]

  Stops all or the named services: SIGTERM to natives and \`docker stop\` to the container, then kills
  what is still running after the timeout (default 10 s). The container is removed; its data stays in
  the stigmer home.
`;

export default async function stop(ctx: CommandContext): Promise<number> {
	const { values, positionals } = parseCommandArgs(ctx, 'server stop', { timeout: { type: 'string' } });
	if (values.help) {
		ctx.stdout.write(usage);
		return exitCodes.ok;
	}
	const progress = new ProgressReporter(ctx.stderr, ctx.color && ctx.stderr.isTTY === true);
	try {
		await stopStack(ctx.home, { services: positionals, timeoutSeconds: parseTimeout(values.timeout, 10), onEvent: (e) => progress.stackEvent(e) });
	} finally {
		progress.stop();
	}
	return exitCodes.ok;
}
