// One lint configuration for the workspace. The rule that matters most: only libs/store
// may import the etcd client, so every write to etcd goes through the store's CAS helper.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'etcd3', message: 'Only libs/store talks to etcd; use the store port.' }],
          patterns: [
            { group: ['etcd3/*'], message: 'Only libs/store talks to etcd; use the store port.' },
            { group: ['@atoll/*/src/*', '**/libs/*/src/*'], message: 'Import a lib through its public index.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['libs/store/src/etcd/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
