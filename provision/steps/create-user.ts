import type { ProvisionContext, ProvisionStep } from '../context.js';

// L03: the project lives under /home/<login>. Both <login> and the SSH user join group docker,
// so `make` and a student's own `docker` commands work without sudo (M13 demos).

async function groupsOf(ctx: ProvisionContext, user: string): Promise<string[] | undefined> {
  const r = await ctx.exec(['id', '-nG', '--', user], { okCodes: [0, 1] });
  return r.code === 0 ? r.stdout.trim().split(/\s+/) : undefined;
}

async function userState(ctx: ProvisionContext) {
  const login = ctx.config.login;
  return {
    loginGroups: await groupsOf(ctx, login),
    sshUserGroups: await groupsOf(ctx, ctx.target.username),
    home: await ctx.test(['test', '-d', ctx.guest.home], { sudo: true }),
  };
}

export const createUserStep: ProvisionStep = {
  title: 'Create the login user and docker group membership',
  skip: async (ctx) => {
    const s = await userState(ctx);
    const ok = s.home && s.loginGroups?.includes('docker') && s.sshUserGroups?.includes('docker');
    return ok ? `${ctx.config.login} exists with ${ctx.guest.home}; ${ctx.config.login} and ${ctx.target.username} are in group docker` : false;
  },
  run: async (ctx) => {
    const login = ctx.config.login;
    const s = await userState(ctx);
    if (!(await ctx.test(['getent', 'group', 'docker']))) await ctx.exec(['groupadd', '--system', 'docker'], { sudo: true });
    if (s.loginGroups === undefined) {
      await ctx.exec(['useradd', '--create-home', '--home-dir', ctx.guest.home, '--shell', '/bin/bash', '--user-group', '--', login], { sudo: true });
    } else if (!s.home) {
      await ctx.exec(['install', '-d', '-o', login, '-g', login, '-m', '0755', ctx.guest.home], { sudo: true });
    }
    for (const user of [login, ctx.target.username]) {
      await ctx.exec(['usermod', '-aG', 'docker', '--', user], { sudo: true });
    }
  },
};
