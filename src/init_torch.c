/*
 * The one-call initialisers named after torch.nn.init's functions (clnn_init_zeros,
 * clnn_init_xavier_uniform, clnn_init_kaiming_normal...): each fills a clnn_init_params with the
 * scheme's defaults, sets the arguments given, and runs clnn_init (src/init.c).
 */
#include "clnn.h"

#define INIT_PARAMS(kind_)                                                                         \
    clnn_init_params p;                                                                            \
    clnn_init_params_default((kind_), &p)

clnn_status clnn_init_zeros(clnn_tensor *tensor)
{
    INIT_PARAMS(CLNN_INIT_ZEROS);
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_ones(clnn_tensor *tensor)
{
    INIT_PARAMS(CLNN_INIT_ONES);
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_constant(clnn_tensor *tensor, float value)
{
    INIT_PARAMS(CLNN_INIT_CONSTANT);
    p.value = value;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_uniform(clnn_tensor *tensor, float a, float b, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_UNIFORM);
    p.a = a, p.b = b, p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_normal(clnn_tensor *tensor, float mean, float std, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_NORMAL);
    p.mean = mean, p.std = std, p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_trunc_normal(clnn_tensor *tensor, float mean, float std, float a, float b,
                                   uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_TRUNC_NORMAL);
    p.mean = mean, p.std = std, p.a = a, p.b = b, p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_xavier_uniform(clnn_tensor *tensor, float gain, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_XAVIER_UNIFORM);
    p.gain = gain, p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_xavier_normal(clnn_tensor *tensor, float gain, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_XAVIER_NORMAL);
    p.gain = gain, p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_kaiming_uniform(clnn_tensor *tensor, float a, clnn_fan_mode mode,
                                      clnn_nonlinearity nonlinearity, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_KAIMING_UNIFORM);
    p.slope = a, p.mode = mode, p.nonlinearity = nonlinearity, p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_kaiming_normal(clnn_tensor *tensor, float a, clnn_fan_mode mode,
                                     clnn_nonlinearity nonlinearity, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_KAIMING_NORMAL);
    p.slope = a, p.mode = mode, p.nonlinearity = nonlinearity, p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_lecun_uniform(clnn_tensor *tensor, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_LECUN_UNIFORM);
    p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_lecun_normal(clnn_tensor *tensor, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_LECUN_NORMAL);
    p.seed = seed;
    return clnn_init(tensor, &p);
}

clnn_status clnn_init_orthogonal(clnn_tensor *tensor, float gain, uint64_t seed)
{
    INIT_PARAMS(CLNN_INIT_ORTHOGONAL);
    p.gain = gain, p.seed = seed;
    return clnn_init(tensor, &p);
}
