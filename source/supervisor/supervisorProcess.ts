// How a supervisor process is recognised: its command line carries the hidden `__supervisor` command
// and `--home <dir>`, so a pid file pointing at a reused pid (any other process) is seen as stale.
import { processCmdline } from './procfs.js';

export const supervisorCommand = '__supervisor';

export function supervisorArgs(homeDir: string): string[] {
	return [supervisorCommand, '--home', homeDir];
}

export function isSupervisorOf(pid: number, homeDir: string): boolean {
	const argv = processCmdline(pid);
	const at = argv.indexOf(supervisorCommand);
	if (at === -1) return false;
	const home = argv.indexOf('--home', at);
	return home !== -1 && argv[home + 1] === homeDir;
}
