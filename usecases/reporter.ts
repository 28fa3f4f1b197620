/** How use cases talk to the user; the CLI decides where the lines go. */
export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
  /** Stream vagrant's own output (false with --quiet). */
  streamTools: boolean;
}
