// How a supervisor process is recognised: its command line carries the hidden `__supervisor` command
// and `--home <dir>`, so a pid file pointing at a reused pid (any other process) is seen as stale.
import { processFacts } from '../platform/ProcessFacts.js';

export const supervisorCommand = '__supervisor';

export function supervisorArgs(homeDir: string): string[] {
	return [supervisorCommand, '--home', homeDir];
}

/** Its command line ends with supervisorArgs (as SupervisorClient spawns it; `ps` gives no argument boundaries). */
export function isSupervisorOf(pid: number, homeDir: string): boolean {
	return (
		processFacts()
			.commandLine(pid)
			?.endsWith(` ${supervisorArgs(homeDir).join(' ')}`) === true
	);
}
