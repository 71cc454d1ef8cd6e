// One lint config for the whole monorepo (ESLint flat config).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import pluginVue from 'eslint-plugin-vue'

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.turbo/**',
      '**/coverage/**',
      '**/.sandbox/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  // The server's routers: one factory (case-sensitive matching) and a guard on each route, never in
  // a router's use() — a capitalised path once reached a handler past its guard (issue #23).
  {
    files: ['apps/server/src/routes/**/*.ts'],
    ignores: ['apps/server/src/routes/http.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Router']",
          message: "Build routers with apiRouter() from './http' (case-sensitive paths).",
        },
        {
          selector: "CallExpression[callee.property.name='use']",
          message: 'Give a guard to each route (r.get(path, guard, handler)), not to use().',
        },
      ],
    },
  },
  // The mini-program's single-file components: Vue's essential rules (layout is Prettier's job),
  // with TypeScript parsing their <script setup lang="ts">.
  ...pluginVue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
    rules: {
      // Taro's page files are named index.vue by convention.
      'vue/multi-word-component-names': 'off',
    },
  },
  // The sandbox console's components run in a browser and are type-checked by vue-tsc, which
  // knows the DOM's names (ESLint's no-undef does not look at TypeScript's lib).
  {
    files: ['packages/sandbox/console/**/*.vue'],
    rules: { 'no-undef': 'off' },
  },
  // CommonJS config and scripts that run in Node.
  {
    files: ['**/*.cjs', '**/babel.config.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
)
