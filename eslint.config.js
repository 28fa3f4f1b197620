import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'compose/**', 'coverage/**', '.labctl-test/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      // One exit point (cli/main.ts) maps errors to exit codes; nothing else may exit.
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Throw a typed error from core/errors.ts; only cli/main.ts exits.' }],
    },
  },
  {
    // dependency-cruiser reads its configuration as CommonJS.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: ['cli/main.ts', 'test/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
