/* Simulates the float arithmetic of clnn_act GELU (forward, derivative) as written in
 * kernels/activation_impl.h, with fmaf, against the double-precision function over 4M points of
 * [-20, 20] and 4M random floats, with the tolerance rule of tests/test_activation.c (relative,
 * plus 8 subnormal steps times |x|; 4e-7 absolute for the derivative below |x| = 10). Prints the
 * largest excess per range. Build: cc -O2 -ffp-contract=off simulate_gelu.c -lm */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <float.h>
static float asf(uint32_t u){float f; memcpy(&f,&u,4); return f;}
static uint32_t asu(float f){uint32_t u; memcpy(&u,&f,4); return u;}
#ifndef EXPDEG /* the kernel uses 5; 6 for comparison */
#define EXPDEG 5
#endif
/* e^(-hh/2 - l/2) * 2^100 for hh = u*u rounded, l its rounding error */
static float exp_scaled(float hh, float l){
  float kf = fmaf(hh, -0.5f*1.44269504088896341f, 12582912.0f);
  float n = kf - 12582912.0f;
  float r = fmaf(n, -0.693359375f, -0.5f*hh);
  r = fmaf(n, 2.12194440e-4f, r);
  r = fmaf(l, -0.5f, r);
#if EXPDEG == 5
  float q = fmaf(r, 0.00829030157f, 0.04189797757f);
  q = fmaf(q, r, 0.1666763666f); q = fmaf(q, r, 0.4999914917f); q = fmaf(q, r, 0.999999707f); q = fmaf(q, r, 1.0f);
#else
  float q = fmaf(r, 0.001384364165f, 0.008374164014f);
  q = fmaf(q, r, 0.04166800266f); q = fmaf(q, r, 0.1666643116f); q = fmaf(q, r, 0.499999942f); q = fmaf(q, r, 1.000000032f); q = fmaf(q, r, 1.0f);
#endif
  uint32_t bits = (asu(kf) << 23) + (uint32_t)((227u - 0x4B400000u) << 23);
  return q * asf(bits);
}
#define S100 7.888609052210118e-31f /* 2^-100 */
static float Pt(float t){
  const float c[9] = {0.1396212442114197f,0.13986453388483705f,0.11981408280488945f,0.10558025273139754f,-0.023276425181403694f,0.15941083198639466f,-0.2559172427005824f,0.14406810760285255f,-0.029165401351050717f};
  float p = c[8]*S100;
  for (int j=7;j>=0;--j) p = fmaf(p, t, c[j]*S100);
  return p;
}
static void core(float x, float *xq, float *u, float *t, float *es){
  *xq = fminf(fmaxf(x, -17.0f), 17.0f);
  *u = fabsf(*xq);
  float hh = *u * *u, l = fmaf(*u, *u, -hh);
  *es = exp_scaled(hh, l);
  *t = 1.0f / fmaf(0.35f, *u, 1.0f);
}
static float gelu(float x){
  float xq,u,t,es; core(x,&xq,&u,&t,&es);
  float q = xq * t * es * Pt(t);
  return xq <= 0.0f ? q : x - q;
}
static float gelu_grad(float x){
  float xq,u,t,es; core(x,&xq,&u,&t,&es);
  float a = t * Pt(t);
  float v = fmaf(u, -0.3989422804014327f*S100, a) * es;
  return xq <= 0.0f ? v : 1.0f - v;
}
static double Phi(double x){ return 0.5*erfc(-x/sqrt(2.0)); }
static double rgelu(double x){ return x*Phi(x); }
static double rgrad(double x){ return Phi(x) + x*exp(-0.5*x*x)/sqrt(2*M_PI); }
int main(){
  double worst[2][3]={{0}}; double wx[2][3]={{0}};
  uint64_t s=12345;
  for (long i=0;i<8000000;i++){
    float x;
    if (i < 4000000) x = -20.0f + 40.0f*(float)i/4000000.0f;
    else { s = s*6364136223846793005ull+1442695040888963407ull; x = asf((uint32_t)(s>>32)); if (isnan(x)||isinf(x)) continue; if (fabsf(x) > 30) x = fmodf(x, 30.0f);} 
    double ax=fabs((double)x); int lev = ax < 1 ? 0 : ax < 10 ? 1 : 2;
    double sc = ax<1?1:ax>1e3?1e3:ax; double atol = 8.0*FLT_TRUE_MIN*sc;
    for (int g=0; g<2; ++g){
      double r = g? rgrad(x): rgelu(x); double got = g? gelu_grad(x): gelu(x);
      double ga = (g && ax < 10) ? fmax(atol, 4e-7) : atol;
      double e = (fabs(got-r) - ga)/fabs(r); if (r == 0) e = fabs(got) > ga ? 1 : 0;
      if (e > worst[g][lev]) { worst[g][lev]=e; wx[g][lev]=x; }
    }
  }
  for (int g=0; g<2; ++g) printf("%s: |x|<1 %.3g (x=%g)  <10 %.3g (x=%g)  beyond %.3g (x=%g)\n", g?"grad":"fwd", worst[g][0],wx[g][0],worst[g][1],wx[g][1],worst[g][2],wx[g][2]);
  printf("gelu(-30)=%g gelu(-inf)=%g gelu(inf)=%g gelu(-13)=%g ref %g\n", gelu(-30), gelu(-INFINITY), gelu(INFINITY), gelu(-13), rgelu(-13));
  return 0;
}
