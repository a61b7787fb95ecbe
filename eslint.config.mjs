import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import prettier from 'eslint-config-prettier'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    // One seam for Azure: only src/azure/ talks to the SDK; steps use its gateway (src/azure/gateway.ts).
    files: ['src/**/*.ts'],
    ignores: ['src/azure/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/arm-*', '@azure/core-*'],
              message: 'Call Azure through src/azure/gateway.ts, never the SDK.'
            }
          ]
        }
      ]
    }
  }
)
