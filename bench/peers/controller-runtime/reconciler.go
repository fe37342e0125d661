package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// The names below are those of operator/src/api/v1alpha1/constants.ts, which a Go program cannot
// import; the benchmark compares the status both operators write, so a drift shows there.
var profileGVK = schema.GroupVersionKind{Group: "perfpilot.dev", Version: "v1alpha1", Kind: "PerformanceProfile"}

const (
	controllerName           = "perfpilot-peer"
	finalizer                = "perfpilot.dev/restore-original-knobs"
	originalValuesAnnotation = "perfpilot.dev/original-values"
	pausedAnnotation         = "perfpilot.dev/paused"
	poolSizeKey              = "DB_POOL_SIZE"
	maxOverflowKey           = "DB_MAX_OVERFLOW"
	// targetIndex indexes profiles by the HPA and ConfigMap they target ("Kind/name").
	targetIndex   = "perfpilot.dev/targets"
	hpaKind       = "HorizontalPodAutoscaler"
	configMapKind = "ConfigMap"
	// defaultIntervalSeconds is the CRD's default of spec.policy.evaluationIntervalSeconds.
	defaultIntervalSeconds = 60
)

// knobValues are the knobs as observed, in the order ours writes them.
type knobValues struct {
	MinReplicas *int64 `json:"minReplicas,omitempty"`
	MaxReplicas *int64 `json:"maxReplicas,omitempty"`
	PoolSize    *int64 `json:"poolSize,omitempty"`
	MaxOverflow *int64 `json:"maxOverflow,omitempty"`
}

// profileStatus is the part of status.PerformanceProfile that ours writes for the benchmark's
// profiles (no metric source, Recommend mode, target present). Ours measures nothing without a
// metric source, so it writes no lastSnapshot, and neither does the peer.
type profileStatus struct {
	ObservedGeneration int64              `json:"observedGeneration"`
	Conditions         []metav1.Condition `json:"conditions"`
	SloState           string             `json:"sloState"`
	KnobsSummary       string             `json:"knobsSummary"`
	Current            knobValues         `json:"current"`
}

// ProfileReconciler reconciles PerformanceProfiles: it reads the profile, its Deployment, HPA and
// tuning ConfigMap from the cache, records the original knobs once in Auto mode, and writes the
// status only when it changed.
type ProfileReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	Now      func() time.Time
}

// observation is what the observe step found.
type observation struct {
	current  knobValues
	missing  []string
	problems []string
}

// Reconcile has the one shape: fetch, finalize when deleted, observe, take over, write status.
func (r *ProfileReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	profile := newProfile()
	if err := r.Client.Get(ctx, req.NamespacedName, profile); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !profile.GetDeletionTimestamp().IsZero() {
		return reconcile.Result{}, r.finalize(ctx, profile)
	}
	observed, err := r.observe(ctx, profile)
	if err != nil {
		return reconcile.Result{}, err
	}
	// As ours: only Auto changes knobs, so only Auto takes the target over (records the originals).
	mode, _, _ := unstructured.NestedString(profile.Object, "spec", "mode")
	if mode == "Auto" && len(observed.missing) == 0 && len(observed.problems) == 0 && !controllerutil.ContainsFinalizer(profile, finalizer) {
		if err := r.takeOver(ctx, profile, observed); err != nil {
			return reconcile.Result{}, err
		}
	}
	var previous profileStatus
	if raw, ok := profile.Object["status"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &previous); err != nil {
			return reconcile.Result{}, fmt.Errorf("status of %s: %w", req, err)
		}
	}
	desired := desiredStatus(profile, previous, observed, r.Now())
	if !equality.Semantic.DeepEqual(previous, desired) {
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&desired)
		if err != nil {
			return reconcile.Result{}, err
		}
		// A merge patch of the status alone: the peer is its only writer, so a reconcile that read a
		// stale cache writes the same values again instead of failing on a conflict.
		patch := client.MergeFrom(profile.DeepCopy())
		profile.Object["status"] = raw
		if err := r.Client.Status().Patch(ctx, profile, patch); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
	}
	return reconcile.Result{RequeueAfter: evaluationInterval(profile)}, nil
}

// observe reads the target's Deployment, HPA and tuning ConfigMap from the cache.
func (r *ProfileReconciler) observe(ctx context.Context, profile *unstructured.Unstructured) (observation, error) {
	var o observation
	namespace := profile.GetNamespace()
	name, hpaName, configMapName := targetNames(profile)
	read := func(kind, name string, into client.Object) (bool, error) {
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, into)
		if apierrors.IsNotFound(err) {
			o.missing = append(o.missing, kind+" "+name)
			return false, nil
		}
		return err == nil, err
	}
	if _, err := read("Deployment", name, &appsv1.Deployment{}); err != nil {
		return o, err
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	if found, err := read(hpaKind, hpaName, hpa); err != nil {
		return o, err
	} else if found {
		// An HPA without minReplicas scales down to 1, the API's documented default.
		minReplicas := int64(1)
		if hpa.Spec.MinReplicas != nil {
			minReplicas = int64(*hpa.Spec.MinReplicas)
		}
		maxReplicas := int64(hpa.Spec.MaxReplicas)
		o.current.MinReplicas, o.current.MaxReplicas = &minReplicas, &maxReplicas
	}
	configMap := &corev1.ConfigMap{}
	if found, err := read(configMapKind, configMapName, configMap); err != nil {
		return o, err
	} else if found {
		for _, knob := range []struct {
			key  string
			into **int64
		}{{poolSizeKey, &o.current.PoolSize}, {maxOverflowKey, &o.current.MaxOverflow}} {
			raw, ok := configMap.Data[knob.key]
			value, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
			switch {
			case ok && err == nil && value >= 0:
				*knob.into = &value
			case !ok:
				o.problems = append(o.problems, fmt.Sprintf("ConfigMap %s %s is missing, not a whole number ≥ 0", configMapName, knob.key))
			default:
				o.problems = append(o.problems, fmt.Sprintf("ConfigMap %s %s is %q, not a whole number ≥ 0", configMapName, knob.key, raw))
			}
		}
	}
	return o, nil
}

// takeOver records the original knobs and adds the finalizer that restores them, in one patch.
func (r *ProfileReconciler) takeOver(ctx context.Context, profile *unstructured.Unstructured, observed observation) error {
	original, err := json.Marshal(observed.current)
	if err != nil {
		return err
	}
	patch := client.MergeFromWithOptions(profile.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(profile, finalizer)
	annotations := profile.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[originalValuesAnnotation] = string(original)
	profile.SetAnnotations(annotations)
	if err := r.Client.Patch(ctx, profile, patch); err != nil {
		return fmt.Errorf("take over %s/%s: %w", profile.GetNamespace(), profile.GetName(), err)
	}
	r.Recorder.Eventf(profile, nil, corev1.EventTypeNormal, "TookOver", "Observe",
		"recorded the original knobs (%s); they are restored when this profile is deleted in Auto mode", knobsSummary(observed.current))
	return nil
}

// finalize removes the finalizer. The peer never changes a knob, so there is nothing to restore.
func (r *ProfileReconciler) finalize(ctx context.Context, profile *unstructured.Unstructured) error {
	if !controllerutil.ContainsFinalizer(profile, finalizer) {
		return nil
	}
	patch := client.MergeFromWithOptions(profile.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(profile, finalizer)
	return client.IgnoreNotFound(r.Client.Patch(ctx, profile, patch))
}

// desiredStatus is the status ours computes for a profile without metric sources.
func desiredStatus(profile *unstructured.Unstructured, previous profileStatus, observed observation, now time.Time) profileStatus {
	generation := profile.GetGeneration()
	paused := profile.GetAnnotations()[pausedAnnotation] == "true"
	summary := knobsSummary(observed.current)
	found := len(observed.missing) == 0
	conditions := make([]metav1.Condition, len(previous.Conditions))
	copy(conditions, previous.Conditions)
	set := func(kind string, status metav1.ConditionStatus, reason, message string) {
		meta.SetStatusCondition(&conditions, metav1.Condition{
			Type: kind, Status: status, Reason: reason, Message: message,
			ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(now),
		})
	}
	switch {
	case !found:
		set("Ready", metav1.ConditionFalse, "TargetNotFound",
			fmt.Sprintf("not found in namespace %s: %s", profile.GetNamespace(), strings.Join(observed.missing, ", ")))
	case len(observed.problems) > 0:
		set("Ready", metav1.ConditionTrue, "Reconciled", "target observed; unreadable: "+strings.Join(observed.problems, "; "))
	default:
		set("Ready", metav1.ConditionTrue, "Reconciled", "observed "+summary)
	}
	set("MetricsAvailable", metav1.ConditionUnknown, "NoMetricsSource",
		"spec.metrics names neither Prometheus nor Redis: nothing is measured, so nothing is recommended")
	set("SLOMet", metav1.ConditionUnknown, "SLOUnknown", "no metric snapshot, so the SLOs cannot be judged")
	if paused {
		set("Progressing", metav1.ConditionFalse, "Stable", "paused: no change is made")
	} else {
		set("Progressing", metav1.ConditionFalse, "Stable", "no change in flight")
	}
	if found {
		set("Degraded", metav1.ConditionFalse, "AsExpected", "")
	} else {
		set("Degraded", metav1.ConditionTrue, "TargetNotFound", "cannot tune: "+strings.Join(observed.missing, ", ")+" missing")
	}
	if paused {
		set("Paused", metav1.ConditionTrue, "PausedByAnnotation", `perfpilot.dev/paused is "true": nothing is changed`)
	} else {
		set("Paused", metav1.ConditionFalse, "NotPaused", "")
	}
	status := profileStatus{
		ObservedGeneration: generation,
		Conditions:         conditions,
		SloState:           "Unknown",
		KnobsSummary:       summary,
		Current:            observed.current,
	}
	return status
}

// knobsSummary renders the knobs on one line, as `kubectl get pp` shows them.
func knobsSummary(k knobValues) string {
	part := func(v *int64) string {
		if v == nil {
			return "?"
		}
		return strconv.FormatInt(*v, 10)
	}
	return fmt.Sprintf("pool %s+%s, replicas %s-%s", part(k.PoolSize), part(k.MaxOverflow), part(k.MinReplicas), part(k.MaxReplicas))
}

// targetNames are the Deployment, HPA and ConfigMap of spec.targetRef, with the CRD's defaults.
func targetNames(profile *unstructured.Unstructured) (deployment, hpa, configMap string) {
	deployment, _, _ = unstructured.NestedString(profile.Object, "spec", "targetRef", "name")
	hpa, found, _ := unstructured.NestedString(profile.Object, "spec", "targetRef", "hpaName")
	if !found {
		hpa = deployment
	}
	configMap, found, _ = unstructured.NestedString(profile.Object, "spec", "targetRef", "configMapName")
	if !found {
		configMap = deployment + "-tuning"
	}
	return deployment, hpa, configMap
}

// evaluationInterval is spec.policy.evaluationIntervalSeconds: the profile is reconciled again then.
func evaluationInterval(profile *unstructured.Unstructured) time.Duration {
	seconds, found, _ := unstructured.NestedInt64(profile.Object, "spec", "policy", "evaluationIntervalSeconds")
	if !found || seconds <= 0 {
		seconds = defaultIntervalSeconds
	}
	return time.Duration(seconds) * time.Second
}

// targetIndexValues are the index keys of a profile: "HorizontalPodAutoscaler/name", "ConfigMap/name".
func targetIndexValues(object client.Object) []string {
	profile, ok := object.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	_, hpa, configMap := targetNames(profile)
	return []string{hpaKind + "/" + hpa, configMapKind + "/" + configMap}
}

// profilesTargeting maps an HPA or ConfigMap to the profiles in its namespace that target it.
func (r *ProfileReconciler) profilesTargeting(kind string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, object client.Object) []reconcile.Request {
		profiles := &unstructured.UnstructuredList{}
		profiles.SetGroupVersionKind(profileGVK.GroupVersion().WithKind(profileGVK.Kind + "List"))
		err := r.Client.List(ctx, profiles, client.InNamespace(object.GetNamespace()),
			client.MatchingFields{targetIndex: kind + "/" + object.GetName()})
		if err != nil {
			return nil
		}
		requests := make([]reconcile.Request, 0, len(profiles.Items))
		for _, p := range profiles.Items {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.GetNamespace(), Name: p.GetName()}})
		}
		return requests
	}
}
