// `stigmer shell [-- CMD...]`: a shell (bash, else sh) or one command in the agent-runner
// container, in /workspace, as the container's user; the exit code is passed through.
import { DockerApi } from '../engine/DockerApi.js';
import { runShell } from '../agentRunner/shell.js';
import type { Command } from './CommandContext.js';

const shell: Command<'shell'> = async (ctx, { input }) => {
	// `stigmer shell -- CMD...` (or `stigmer shell CMD...`): meow has parsed shell's own flags before it
	const command = ctx.argv.length > 0 ? input : undefined;

	const api = await DockerApi.connect();
	try {
		return await runShell({ api, home: ctx.home, command, stdin: process.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
	} finally {
		api.close();
	}
};

export default shell;
