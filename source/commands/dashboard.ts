// `stigmer dashboard`: checks for a terminal, then loads the Ink app (React and Ink load only here).
import { exitCodes } from '../contract.js';
import { UsageError } from '../errors.js';
import { type CommandContext, parseCommandArgs } from './CommandContext.js';

const help = `
  Usage
    $ stigmer dashboard

  The live terminal dashboard: services with state, health, CPU, memory and history; their logs;
  keys to start (s), stop (x), restart (r) and open a shell in the container (e). Press ? for all keys.
`;

export default async function dashboard(ctx: CommandContext): Promise<number> {
	const { values } = parseCommandArgs(ctx, 'dashboard', {}, false);
	if (values.help) {
		ctx.stdout.write(`${help.trimStart()}\n`);
		return exitCodes.ok;
	}
	if (!ctx.stdout.isTTY || !process.stdin.isTTY) {
		throw new UsageError('stigmer dashboard needs a terminal', 'run it in an interactive terminal; for scripts use `stigmer server status --json` and `stigmer server logs -f`');
	}
	// STIGMER_DASHBOARD_FIXTURE=1 runs the UI over canned data (tests, benchmarks, trying the keys)
	const fixture = process.env.STIGMER_DASHBOARD_FIXTURE;
	const backend = fixture
		? new (await import('../dashboard/FixtureBackend.js')).FixtureBackend({ linesPerSecond: Number(process.env.STIGMER_DASHBOARD_FIXTURE_RATE ?? 2) })
		: await (await import('../dashboard/RealBackend.js')).createRealBackend(ctx);
	// React's development build costs several times the CPU per frame; set before React first loads
	process.env.NODE_ENV ??= 'production';
	const { runDashboard } = await import('../ui/runDashboard.js');
	return runDashboard({ backend, stdout: ctx.stdout, stderr: ctx.stderr, ...(fixture ? { title: 'stigmer dashboard (fixture)' } : {}), ...(process.env.STIGMER_DASHBOARD_STATS ? { statsFile: process.env.STIGMER_DASHBOARD_STATS } : {}) });
}
