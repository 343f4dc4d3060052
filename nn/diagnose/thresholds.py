"""The numbers nn.diagnose judges by, each with the reason for its value.

Every stage reads its thresholds from here, so they can be read (and argued about) in one place.
"""

# ----- the batch (data.py) -----------------------------------------------------------------------

# the probe trains on at most this many rows: enough for per-unit statistics, and fast
PROBE_ROWS = 512

# default init is scaled for inputs of size ~1; five times that already gives pre-activations
# five times too large (saturated sigmoids, a first layer whose gradient dwarfs the others')
SCALE_TOO_LARGE = 5.0
# every feature 100 times smaller than 1: the first layer's weights barely get a gradient
SCALE_TOO_SMALL = 0.01
# a few constant features are harmless (a weight on a constant acts as a bias); when most are
# constant, the preprocessing has usually thrown the data away
CONSTANT_SHARE = 0.5

# ----- the observed pass (observe.py) ------------------------------------------------------------

# a loss whose value on half the rows is below 2/3 of its value on all of them sums over rows
# (a mean stays about the same; a sum halves)
SUM_LOSS_RATIO = 1.5

# ----- the model against the data (checks.py) ----------------------------------------------------

# "off-centre": the data's mean is farther from the origin than the data is spread around it
OFFCENTRE_RATIO = 1.0
# "needs an offset": a least-squares fit of the targets explains 10% more with an intercept
OFFSET_GAIN = 0.1

# sigmoid'(5) = 0.0066 and tanh'(5) = 0.00018: beyond +-5 a unit passes almost no gradient
SATURATION_Z = 5.0
# "most" pre-activations of a layer, as the SPEC says
SATURATED_SHARE = 0.5
# some dead ReLUs are normal; half a layer dead means half its capacity is gone for good
DEAD_SHARE = 0.5

# gradient norm / weight norm of a layer is 0.01-1 at a healthy start; 100 times its weights
# means one step even at lr 0.01 replaces the weights entirely, so training cannot settle
EXPLODING_RATIO = 100.0
# during the probe, gradients 1000x larger than at the start are growing, not fluctuating
GRADIENT_GROWTH = 1e3

# ----- the training probe (probe.py) -------------------------------------------------------------

# without an optimizer, the probe uses Adam at its usual default, which trains most small nets;
# when that does not beat chance level within the probe's few steps, also 10 times as much
DEFAULT_PROBE_LRS = (1e-3, 1e-2)

# the probe's loss above twice its starting value is not noise: the steps overshoot
BLOWUP_FACTOR = 2.0
# far above the start the probe has clearly diverged; stop it early to save time
DIVERGED_FACTOR = 100.0
# the loss rising on a third of the steps is oscillation, not the odd bump of momentum
OSCILLATION_SHARE = 0.3
# the loss falls by 10% within the probe, to below chance level: training works at that lr
GOOD_PROGRESS = 0.1
# the loss moves by less than 2% within the probe: nothing is happening
STALL_PROGRESS = 0.02
# the learning rates tried by the sweep, as multiples (or fractions) of the user's
LR_SWEEP_FACTORS = (10.0, 100.0, 1e3, 1e4, 1e5, 1e6)   # stops early once past a good lr

# 95% of the inputs get the same prediction: the model ignores its input
COLLAPSED_SHARE = 0.95
# predictions varying by under 5% of the targets' spread count as "the same" for regression
REGRESSION_SPREAD = 0.05
# within 10% of the best constant prediction's loss is "at chance level"
CHANCE_MARGIN = 0.9
# a classifier beats chance by accuracy when it closes half the gap between always guessing
# the most frequent class and being always right ...
ACCURACY_GAIN = 0.5
# ... by more than two standard errors of that guess: on 4 rows (XOR) no accuracy is evidence
ACCURACY_NOISE = 2.0
# "the model learns": its loss is at most half the chance level, or its accuracy closes 90% of
# that gap; a probe that learns has a working learning rate, whatever its curve looked like
LEARNED_LOSS_SHARE = 0.5
LEARNED_ACCURACY_GAIN = 0.9
# rows the probe did not train on must gain at least a quarter of what its own rows gained
# below chance level; less is memorising the rows, not learning how y depends on X
GENERALISE_SHARE = 0.25

# weight decay is "dominating" when it undoes more than half the progress made without it
DECAY_SHARE = 0.5
