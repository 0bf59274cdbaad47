// `stigmer shell [-- CMD...]`: a shell (bash, else sh) or one command in the agent-runner
// container, in /workspace, as the container's user; the exit code is passed through.
import { exitCodes } from '../contract.js';
import { UsageError } from '../errors.js';
import { DockerApi } from '../engine/DockerApi.js';
import { runShell } from '../engine/shell.js';
import type { Command } from './CommandContext.js';

export const shellHelp = `
  Open a shell in the agent-runner container (bash, else sh), in /workspace.

  Usage
    $ stigmer shell
    $ stigmer shell -- CMD [ARG...]

  With CMD, runs it instead and exits with its exit code. A TTY is allocated when stdin is one.
`;

const shell: Command = async (ctx) => {
	const argv = ctx.argv;
	let command: string[] | undefined;
	if (argv[0] === '--help' || argv[0] === '-h') {
		ctx.stdout.write(shellHelp);
		return exitCodes.ok;
	}
	if (argv[0] === '--') command = argv.slice(1);
	else if (argv.length > 0 && argv[0]!.startsWith('-')) throw new UsageError(`shell: unknown option ${argv[0]}`, 'put the command after --: `stigmer shell -- CMD...`');
	else if (argv.length > 0) command = argv;

	const api = await DockerApi.connect();
	try {
		return await runShell({ api, home: ctx.home, command, stdin: process.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
	} finally {
		api.close();
	}
};

export default shell;
