// Command peer is the benchmark's controller-runtime peer of `perfpilot operator`: a
// PerformanceProfile reconciler written the way a Go operator author would write it, so that
// `npm run bench -- operator` can measure ours beside it on the same API server. It is built by
// the benchmark (bench/operator.bench.ts) into a cache directory and is never part of the product.
//
// It uses what controller-runtime gives by default: one manager, its cached client (profiles are
// read as unstructured objects, from the cache too), the default rate limiter, the default
// client-side throttling (none: the API server's priority and fairness), watches on the profiles,
// their HPAs and tuning ConfigMaps. Leader election is off; metrics and the readiness probe listen
// on the ports given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

func main() {
	namespace := flag.String("watch-namespace", "", "the one namespace whose PerformanceProfiles are reconciled (required)")
	metricsPort := flag.Int("metrics-port", 8080, "port of the Prometheus metrics endpoint (/metrics)")
	healthPort := flag.Int("health-port", 8081, "port of the probes (/healthz, /readyz: ready once the caches are synced)")
	concurrency := flag.Int("max-concurrent-reconciles", 4, "profiles reconciled at once (the same default as perfpilot's operator)")
	zapOptions := zap.Options{}
	zapOptions.BindFlags(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s --watch-namespace=NS [--kubeconfig=PATH] [flags]\n\n"+
			"Reconciles PerformanceProfiles (perfpilot.dev/v1alpha1) with controller-runtime: the benchmark's peer of `perfpilot operator`.\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOptions)))
	log := ctrl.Log.WithName("peer")
	if *namespace == "" {
		fmt.Fprintln(os.Stderr, "peer: --watch-namespace is required")
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*namespace, *metricsPort, *healthPort, *concurrency); err != nil {
		log.Error(err, "stopped")
		os.Exit(1)
	}
}

func run(namespace string, metricsPort, healthPort, concurrency int) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	config, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme:                 scheme,
		LeaderElection:         false,
		Metrics:                metricsserver.Options{BindAddress: fmt.Sprintf("127.0.0.1:%d", metricsPort)},
		HealthProbeBindAddress: fmt.Sprintf("127.0.0.1:%d", healthPort),
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
		// Without this the client reads unstructured objects from the API server, not the cache.
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	if err := mgr.GetFieldIndexer().IndexField(ctx, newProfile(), targetIndex, targetIndexValues); err != nil {
		return fmt.Errorf("index %s: %w", targetIndex, err)
	}
	reconciler := &ProfileReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder(controllerName),
		Now:      time.Now,
	}
	err = ctrl.NewControllerManagedBy(mgr).
		Named(controllerName).
		For(newProfile()).
		Watches(&autoscalingv2.HorizontalPodAutoscaler{}, handler.EnqueueRequestsFromMapFunc(reconciler.profilesTargeting(hpaKind))).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(reconciler.profilesTargeting(configMapKind))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(reconciler)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	// Deployments are only read; the first Get would start their informer, so start it with the rest.
	if _, err := mgr.GetCache().GetInformer(ctx, &appsv1.Deployment{}); err != nil {
		return fmt.Errorf("deployment informer: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", func(*http.Request) error { return nil }); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("caches", func(req *http.Request) error {
		wait, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(wait) {
			return errors.New("caches not synced")
		}
		return nil
	}); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// newProfile is an empty PerformanceProfile, as an unstructured object of its kind.
func newProfile() *unstructured.Unstructured {
	profile := &unstructured.Unstructured{}
	profile.SetGroupVersionKind(profileGVK)
	return profile
}
