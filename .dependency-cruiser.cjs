// The floors of labctl (docs/contributing.md, "Floors"): each folder may import its own floor's
// files and the floors below it, never one above; no cycles anywhere. `npm run lint:floors`.
const FLOORS = [
  ['cli'],
  ['usecases'],
  ['provision', 'check', 'box', 'layers'],
  ['adapters'],
  ['core'],
];

const forbidden = [
  {
    name: 'no-cycle',
    severity: 'error',
    comment: 'A cycle makes two modules one: merge them, or move what both need one floor down.',
    from: {},
    to: { circular: true },
  },
  {
    name: 'no-test-code',
    severity: 'error',
    comment: 'Shipped code never imports test/.',
    from: { path: '^(cli|usecases|provision|check|box|layers|adapters|core)/' },
    to: { path: '^test/' },
  },
  {
    // cli/ parses argv and calls one use case: behaviour is one hop from cli/commands/<verb>.ts.
    name: 'cli-calls-use-cases',
    severity: 'error',
    comment: 'cli/ reaches features and adapters only through a use case (usecases/<verb>.ts).',
    from: { path: '^cli/' },
    to: { path: '^(provision|check|box|layers|adapters)/' },
  },
  {
    // The features are side by side: what two of them share belongs in adapters/ or core/.
    name: 'features-apart',
    severity: 'error',
    comment: 'provision/, check/, box/ and layers/ do not import each other: move the shared code down to adapters/ or core/.',
    from: { path: '^(provision|check|box|layers)/' },
    to: { path: '^(provision|check|box|layers)/', pathNot: '^$1/' },
  },
];

FLOORS.forEach((floor, i) => {
  const above = FLOORS.slice(0, i).flat();
  if (above.length === 0) return;
  forbidden.push({
    name: `no-upward-from-${floor.join('-')}`,
    severity: 'error',
    comment: `${floor.join('/, ')}/ sit below ${above.join('/, ')}/: pass what you need down as a parameter, or move the code down.`,
    from: { path: `^(${floor.join('|')})/` },
    to: { path: `^(${above.join('|')})/` },
  });
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|compose)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
