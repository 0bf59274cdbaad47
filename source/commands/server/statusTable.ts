import type { ServiceStatus, StackStatus } from '../../serviceStatus.js';
import { oomNote } from '../../agentRunner/oomStatus.js';
import type { CommandContext } from '../CommandContext.js';

export function formatUptime(startedAt: string | null | undefined, now = Date.now()): string {
	if (!startedAt) return '-';
	const seconds = Math.max(0, Math.floor((now - Date.parse(startedAt)) / 1000));
	if (!Number.isFinite(seconds)) return '-';
	if (seconds < 60) return `${seconds}s`;
	if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
	if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
	return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
}

const stateColours: Record<string, string> = { running: '32', starting: '33', restarting: '33', stopped: '90', exited: '31', failed: '31', 'not-installed': '90', unknown: '90' };

function cells(s: ServiceStatus): string[] {
	const health = s.health ?? '-';
	const where = s.kind === 'container' ? (s.id ? s.id.slice(0, 12) : '-') : s.pid ? `pid ${s.pid}` : '-';
	const exit = s.exitCode === null || s.exitCode === undefined ? '-' : String(s.exitCode) + (s.oomKilled ? ' (OOM)' : '');
	const note = [s.message, oomNote(s)].filter(Boolean).join('; ');
	return [s.name, s.kind, s.state, health, formatUptime(s.state === 'running' ? s.startedAt : null), String(s.restarts ?? 0), exit, where, s.endpoint ?? '', note];
}

export function printStatusTable(ctx: CommandContext, status: StackStatus): void {
	const header = ['SERVICE', 'KIND', 'STATE', 'HEALTH', 'UPTIME', 'RESTARTS', 'EXIT', 'ID/PID', 'ENDPOINT', 'NOTE'];
	const rows = status.services.map(cells);
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (r: string[], colourState: boolean) =>
		r
			.map((c, i) => {
				const padded = i === r.length - 1 ? c : c.padEnd(widths[i]!);
				return colourState && i === 2 && ctx.color ? `\x1b[${stateColours[c] ?? '0'}m${padded}\x1b[0m` : padded;
			})
			.join('  ')
			.trimEnd();
	const out = [line(header, false), ...rows.map((r) => line(r, true))];
	const forward = status.llmForward;
	if (forward?.state === 'down') out.push(`LLM forward: down (${forward.listen} -> ${forward.target}): ${forward.error}; agents cannot reach the LLM — run \`stigmer server start\``);
	else if (forward) out.push(`LLM forward: ${forward.state} (${forward.listen} -> ${forward.target})${forward.error ? `: ${forward.error}` : ''}`);
	if (status.configError) out.push(`config: invalid (${status.configError}); shown: what runs. Fix it to start or change the stack`);
	if (!status.engine.reachable) out.push(`engine: unreachable (${status.engine.endpoint}) — ${status.engine.error ?? 'run `stigmer doctor`'}`);
	ctx.stdout.write(`${out.join('\n')}\n`);
}
