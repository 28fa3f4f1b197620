// Where things live in the guest (L03, M01, M07). One place, so status/logs agree with provision.

export interface GuestPaths {
  home: string;
  /** The compose project root: Makefile, srcs/, secrets/. */
  project: string;
  /** Bind targets of the two named volumes (M07). */
  data: string;
  /** labctl's own bookkeeping (pushed-file list, make stamp), outside the project. */
  state: string;
  composeFile: string;
}

export function guestPaths(login: string): GuestPaths {
  const home = `/home/${login}`;
  return {
    home,
    project: `${home}/inception`,
    data: `${home}/data`,
    state: `${home}/.labctl`,
    composeFile: `${home}/inception/srcs/docker-compose.yml`,
  };
}
