import { exitCodes } from '../../contract.js';
import { stackStatus } from '../../stack/Stack.js';
import { type CommandContext, parseCommandArgs } from '../CommandContext.js';
import { printStatusTable } from './statusTable.js';

const usage = `
  Usage: stigmer server status [--json]

  One row per service: state, health, uptime, restarts, exit code, container id or pid, endpoint.
  --json prints the schema of the README ("Status JSON").
`;

export default async function status(ctx: CommandContext): Promise<number> {
	const { values } = parseCommandArgs(ctx, 'server status', { json: { type: 'boolean' } }, false);
	if (values.help) {
		ctx.stdout.write(usage);
		return exitCodes.ok;
	}
	const result = await stackStatus(ctx.home);
	if (values.json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
	else printStatusTable(ctx, result);
	return exitCodes.ok;
}
