/** How progress is drawn (listr2's renderers): chosen by the CLI from --verbose, --quiet and the TTY. */
export type Renderer = 'default' | 'simple' | 'verbose' | 'silent';
