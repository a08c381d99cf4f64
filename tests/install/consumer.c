/* Uses the installed clnn: a context, a tensor round trip through the copy kernel. */
#include <clnn.h>

#include <stdio.h>

int main(void)
{
    clnn_context *ctx;
    clnn_tensor *a = NULL, *b = NULL;
    float in[5] = {1, 2, 3, 4, 5}, out[5] = {0};
    size_t n = 5;
    if (clnn_context_create(&ctx, NULL) != CLNN_SUCCESS) {
        fprintf(stderr, "consumer: %s\n", clnn_context_last_error(NULL));
        return 1;
    }
    int ok = clnn_tensor_create(ctx, 1, &n, &a) == CLNN_SUCCESS &&
             clnn_tensor_create(ctx, 1, &n, &b) == CLNN_SUCCESS &&
             clnn_tensor_upload(a, in, n) == CLNN_SUCCESS &&
             clnn_tensor_copy(b, a) == CLNN_SUCCESS && clnn_tensor_download(b, out, n) == CLNN_SUCCESS;
    for (int i = 0; ok && i < 5; ++i)
        ok = out[i] == in[i];
    printf("consumer linked against clnn %s: %s\n", clnn_version_string(), ok ? "ok" : "FAILED");
    clnn_tensor_destroy(a);
    clnn_tensor_destroy(b);
    clnn_context_destroy(ctx);
    return ok ? 0 : 1;
}
