/* The synthetic CDM behind `omcp demo-data`. Concept ids, names and codes
 * are those of the standard OHDSI vocabularies: SNOMED, RxNorm, LOINC,
 * UCUM and the OMOP Gender, Race, Ethnicity, Visit and Type Concept
 * vocabularies. The persons and every clinical record are invented. The
 * model is simple on purpose: risks of chronic conditions rise with age,
 * treated conditions shift the measurements that follow them, and acute
 * problems come and go at visits. */
#include "demo.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cdm.h"

/* Changing the seed, the person count or the model changes every file:
 * the documented row counts and the tests that check them go with it. */
#define DEMO_SEED UINT64_C (0x6f6d63702d64656d)
#define DEMO_PERSONS 300

/* Observation starts on a day of the years FIRST_START_YEAR to
 * LAST_START_YEAR and ends on the last day of END_YEAR, or at death. */
#define FIRST_START_YEAR 2015
#define LAST_START_YEAR 2017
#define END_YEAR 2024

#define MAX_VISITS 48

struct demo_concept
{
  int64_t id;
  const char *name;
  const char *domain;
  const char *vocabulary;
  const char *concept_class;
  const char *code;
  const char *valid_start;
  bool standard;
};

static const struct demo_concept vocabulary[] = {
  /* Metadata, demographics and record types */
  { 0, "No matching concept", "Metadata", "None", "Undefined", "No matching concept", "1970-01-01", false },
  { 8507, "MALE", "Gender", "Gender", "Gender", "M", "1970-01-01", true },
  { 8532, "FEMALE", "Gender", "Gender", "Gender", "F", "1970-01-01", true },
  { 8515, "Asian", "Race", "Race", "Race", "2", "1970-01-01", true },
  { 8516, "Black or African American", "Race", "Race", "Race", "3", "1970-01-01", true },
  { 8527, "White", "Race", "Race", "Race", "5", "1970-01-01", true },
  { 32817, "EHR", "Type Concept", "Type Concept", "Type Concept", "OMOP4976890", "2020-08-20", true },
  /* Conditions */
  { 201826, "Type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "44054006", "2002-01-31", true },
  { 320128, "Essential hypertension", "Condition", "SNOMED", "Clinical Finding", "59621000", "2002-01-31", true },
  { 432867, "Hyperlipidemia", "Condition", "SNOMED", "Clinical Finding", "55822004", "2002-01-31", true },
  { 317009, "Asthma", "Condition", "SNOMED", "Clinical Finding", "195967001", "2002-01-31", true },
  { 261325, "Pulmonary emphysema", "Condition", "SNOMED", "Clinical Finding", "87433001", "2002-01-31", true },
  { 317576, "Coronary arteriosclerosis", "Condition", "SNOMED", "Clinical Finding", "53741008", "2002-01-31", true },
  { 316139, "Heart failure", "Condition", "SNOMED", "Clinical Finding", "84114007", "2002-01-31", true },
  { 313217, "Atrial fibrillation", "Condition", "SNOMED", "Clinical Finding", "49436004", "2002-01-31", true },
  { 443614, "Chronic kidney disease stage 1", "Condition", "SNOMED", "Clinical Finding", "431855005", "2008-07-31", true },
  { 443601, "Chronic kidney disease stage 2", "Condition", "SNOMED", "Clinical Finding", "431856006", "2008-07-31", true },
  { 443597, "Chronic kidney disease stage 3", "Condition", "SNOMED", "Clinical Finding", "433144002", "2008-07-31", true },
  { 4079750, "Osteoarthritis of knee", "Condition", "SNOMED", "Clinical Finding", "239873007", "2002-01-31", true },
  { 4079749, "Osteoarthritis of hip", "Condition", "SNOMED", "Clinical Finding", "239872002", "2002-01-31", true },
  { 80809, "Rheumatoid arthritis", "Condition", "SNOMED", "Clinical Finding", "69896004", "2002-01-31", true },
  { 439777, "Anemia", "Condition", "SNOMED", "Clinical Finding", "271737000", "2002-01-31", true },
  { 440674, "Gout", "Condition", "SNOMED", "Clinical Finding", "90560007", "2002-01-31", true },
  { 80502, "Osteoporosis", "Condition", "SNOMED", "Clinical Finding", "64859006", "2002-01-31", true },
  { 378419, "Alzheimer's disease", "Condition", "SNOMED", "Clinical Finding", "26929004", "2002-01-31", true },
  { 133834, "Atopic dermatitis", "Condition", "SNOMED", "Clinical Finding", "24079001", "2002-01-31", true },
  { 4280726, "Seasonal allergic rhinitis", "Condition", "SNOMED", "Clinical Finding", "367498001", "2002-01-31", true },
  { 436940, "Metabolic syndrome X", "Condition", "SNOMED", "Clinical Finding", "237602007", "2002-01-31", true },
  { 4132891, "Chronic low back pain", "Condition", "SNOMED", "Clinical Finding", "278860009", "2002-01-31", true },
  { 43530622, "Chronic neck pain", "Condition", "SNOMED", "Clinical Finding", "1121000119107", "2012-09-01", true },
  { 4120314, "Hypertriglyceridemia", "Condition", "SNOMED", "Clinical Finding", "302870006", "2002-01-31", true },
  { 4152280, "Major depressive disorder", "Condition", "SNOMED", "Clinical Finding", "370143000", "2002-07-31", true },
  { 4309027, "Idiopathic atrophic hypothyroidism", "Condition", "SNOMED", "Clinical Finding", "83664006", "2002-01-31", true },
  { 43530652, "Chronic intractable migraine without aura", "Condition", "SNOMED", "Clinical Finding", "124171000119105", "2013-07-31", true },
  { 4029498, "Seizure disorder", "Condition", "SNOMED", "Clinical Finding", "128613002", "2002-01-31", true },
  { 4226121, "Retinopathy due to type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "422034002", "2006-07-31", true },
  { 37016354, "Neuropathy due to type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "368581000119106", "2016-01-31", true },
  { 192279, "Disorder of kidney due to diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "127013003", "2002-01-31", true },
  { 45769905, "Microalbuminuria due to type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "90781000119102", "2015-01-31", true },
  { 4329847, "Myocardial infarction", "Condition", "SNOMED", "Clinical Finding", "22298006", "2002-01-31", true },
  { 381316, "Cerebrovascular accident", "Condition", "SNOMED", "Clinical Finding", "230690007", "2002-01-31", true },
  { 197500, "Primary malignant neoplasm of colon", "Condition", "SNOMED", "Clinical Finding", "93761005", "2002-01-31", true },
  { 4115276, "Non-small cell lung cancer", "Condition", "SNOMED", "Clinical Finding", "254637007", "2002-01-31", true },
  { 4129902, "Neoplasm of prostate", "Condition", "SNOMED", "Clinical Finding", "126906006", "2002-01-31", true },
  { 40481087, "Viral sinusitis", "Condition", "SNOMED", "Clinical Finding", "444814009", "2010-07-31", true },
  { 4112343, "Acute viral pharyngitis", "Condition", "SNOMED", "Clinical Finding", "195662009", "2002-01-31", true },
  { 260139, "Acute bronchitis", "Condition", "SNOMED", "Clinical Finding", "10509002", "2002-01-31", true },
  { 372328, "Otitis media", "Condition", "SNOMED", "Clinical Finding", "65363002", "2002-01-31", true },
  { 28060, "Streptococcal sore throat", "Condition", "SNOMED", "Clinical Finding", "43878008", "2002-01-31", true },
  { 195588, "Cystitis", "Condition", "SNOMED", "Clinical Finding", "38822007", "2002-01-31", true },
  { 81902, "Urinary tract infectious disease", "Condition", "SNOMED", "Clinical Finding", "68566005", "2002-01-31", true },
  { 81151, "Sprain of ankle", "Condition", "SNOMED", "Clinical Finding", "44465007", "2002-01-31", true },
  { 78272, "Sprain of wrist", "Condition", "SNOMED", "Clinical Finding", "70704007", "2002-01-31", true },
  { 437663, "Fever", "Condition", "SNOMED", "Clinical Finding", "386661006", "2003-01-31", true },
  { 254761, "Cough", "Condition", "SNOMED", "Clinical Finding", "49727002", "2002-01-31", true },
  { 37311061, "COVID-19", "Condition", "SNOMED", "Clinical Finding", "840539006", "2020-01-31", true },
  { 4289517, "Loss of taste", "Condition", "SNOMED", "Clinical Finding", "36955009", "2002-01-31", true },
  { 4283893, "Sinusitis", "Condition", "SNOMED", "Clinical Finding", "36971009", "2002-01-31", true },
  { 4294548, "Acute bacterial sinusitis", "Condition", "SNOMED", "Clinical Finding", "75498004", "2002-01-31", true },
  { 4223659, "Fatigue", "Condition", "SNOMED", "Clinical Finding", "84229001", "2002-01-31", true },
  { 312437, "Dyspnea", "Condition", "SNOMED", "Clinical Finding", "267036007", "2002-01-31", true },
  { 255848, "Pneumonia", "Condition", "SNOMED", "Clinical Finding", "233604007", "2002-01-31", true },
  { 378253, "Headache", "Condition", "SNOMED", "Clinical Finding", "25064002", "2002-01-31", true },
  { 4084167, "Acute allergic reaction", "Condition", "SNOMED", "Clinical Finding", "241929008", "2002-01-31", true },
  { 134438, "Contact dermatitis", "Condition", "SNOMED", "Clinical Finding", "40275004", "2002-01-31", true },
  { 4142905, "Fracture of rib", "Condition", "SNOMED", "Clinical Finding", "33737001", "2002-01-31", true },
  { 4278672, "Fracture of forearm", "Condition", "SNOMED", "Clinical Finding", "65966004", "2002-01-31", true },
  { 4059173, "Fracture of ankle", "Condition", "SNOMED", "Clinical Finding", "16114001", "2002-01-31", true },
  { 4113008, "Laceration of hand", "Condition", "SNOMED", "Clinical Finding", "284549007", "2002-01-31", true },
  { 4156265, "Facial laceration", "Condition", "SNOMED", "Clinical Finding", "370247008", "2002-07-31", true },
  /* Drugs */
  { 40163924, "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", "Drug", "RxNorm", "Quant Clinical Drug", "860975", "2009-09-06", true },
  { 40169222, "3 ML liraglutide 6 MG/ML Pen Injector", "Drug", "RxNorm", "Quant Clinical Drug", "897122", "2010-01-31", true },
  { 19080128, "lisinopril 10 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "314076", "1970-01-01", true },
  { 19080129, "lisinopril 20 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "314077", "1970-01-01", true },
  { 19073094, "amlodipine 2.5 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "308136", "1970-01-01", true },
  { 1332419, "amlodipine 5 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "197361", "1970-01-01", true },
  { 19078106, "hydrochlorothiazide 25 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "310798", "1970-01-01", true },
  { 40185280, "losartan potassium 25 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "979485", "2010-06-06", true },
  { 40185304, "losartan potassium 50 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "979492", "2010-06-06", true },
  { 1539463, "simvastatin 10 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "314231", "1970-01-01", true },
  { 1539411, "simvastatin 20 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "312961", "1970-01-01", true },
  { 1545959, "atorvastatin 80 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "259255", "1970-01-01", true },
  { 1511248, "NDA020503 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "Drug", "RxNorm", "Clinical Drug", "2123111", "2019-05-06", true },
  { 40169216, "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", "Drug", "RxNorm", "Quant Clinical Drug", "895994", "2010-01-31", true },
  { 19075601, "clopidogrel 75 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "309362", "1970-01-01", true },
  { 19126352, "nitroglycerin 0.4 MG/ACTUAT Mucosal Spray", "Drug", "RxNorm", "Clinical Drug", "705129", "2007-05-27", true },
  { 957136, "furosemide 40 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "313988", "1970-01-01", true },
  { 19022781, "carvedilol 25 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "200033", "1970-01-01", true },
  { 19059056, "aspirin 81 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "243670", "1970-01-01", true },
  { 1127433, "acetaminophen 325 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "313782", "1970-01-01", true },
  { 19078461, "ibuprofen 200 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "310965", "1970-01-01", true },
  { 1115171, "naproxen sodium 220 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "849574", "2009-05-31", true },
  { 19134047, "tramadol hydrochloride 50 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "835603", "2009-04-05", true },
  { 19073188, "amoxicillin 500 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "308192", "1970-01-01", true },
  { 1713671, "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "562251", "2005-09-11", true },
  { 19075001, "cefuroxime 250 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "309097", "1970-01-01", true },
  { 19133905, "penicillin V potassium 500 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "834102", "2009-03-01", true },
  { 920300, "nitrofurantoin 5 MG/ML Oral Suspension", "Drug", "RxNorm", "Clinical Drug", "311989", "1970-01-01", true },
  { 1167323, "allopurinol 100 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "197319", "1970-01-01", true },
  { 40173590, "alendronic acid 10 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "904419", "2010-04-04", true },
  { 40222846, "memantine hydrochloride 2 MG/ML Oral Solution", "Drug", "RxNorm", "Clinical Drug", "996740", "2010-07-04", true },
  { 19077572, "galantamine 4 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "310436", "1970-01-01", true },
  { 19125062, "loratadine 5 MG Chewable Tablet", "Drug", "RxNorm", "Clinical Drug", "665078", "2006-12-17", true },
  { 40223821, "fexofenadine hydrochloride 30 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "997488", "2010-08-01", true },
  { 19008572, "hydrocortisone 10 MG/ML Topical Cream", "Drug", "RxNorm", "Clinical Drug", "106258", "1970-01-01", true },
  { 723042, "diazepam 5 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "197591", "1970-01-01", true },
  { 739207, "sertraline 100 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "312938", "1970-01-01", true },
  { 19077463, "fluoxetine 20 MG Oral Capsule", "Drug", "RxNorm", "Clinical Drug", "310385", "1970-01-01", true },
  { 1551192, "prednisone 5 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "312617", "1970-01-01", true },
  { 40163554, "warfarin sodium 5 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "855332", "2009-08-02", true },
  { 40174880, "levothyroxine sodium 0.075 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "966222", "2010-04-04", true },
  /* Ingredients */
  { 1749008, "cefpodoxime", "Drug", "RxNorm", "Ingredient", "20489", "1970-01-01", true },
  { 1112807, "aspirin", "Drug", "RxNorm", "Ingredient", "1191", "1970-01-01", true },
  { 1748975, "cefepime", "Drug", "RxNorm", "Ingredient", "20481", "1970-01-01", true },
  { 1335471, "benazepril", "Drug", "RxNorm", "Ingredient", "18867", "1970-01-01", true },
  { 1340128, "captopril", "Drug", "RxNorm", "Ingredient", "1998", "1970-01-01", true },
  { 1768849, "cefaclor", "Drug", "RxNorm", "Ingredient", "2176", "1970-01-01", true },
  { 1771162, "cefazolin", "Drug", "RxNorm", "Ingredient", "2180", "1970-01-01", true },
  { 1775741, "cefoxitin", "Drug", "RxNorm", "Ingredient", "2189", "1970-01-01", true },
  { 1776684, "ceftazidime", "Drug", "RxNorm", "Ingredient", "2191", "1970-01-01", true },
  { 1777806, "ceftriaxone", "Drug", "RxNorm", "Ingredient", "2193", "1970-01-01", true },
  { 1778162, "cefuroxime", "Drug", "RxNorm", "Ingredient", "2194", "1970-01-01", true },
  { 1786621, "cephalexin", "Drug", "RxNorm", "Ingredient", "2231", "1970-01-01", true },
  { 1796435, "cefixime", "Drug", "RxNorm", "Ingredient", "25033", "1970-01-01", true },
  { 1796458, "cefdinir", "Drug", "RxNorm", "Ingredient", "25037", "1970-01-01", true },
  { 1308216, "lisinopril", "Drug", "RxNorm", "Ingredient", "29046", "1970-01-01", true },
  { 1331235, "quinapril", "Drug", "RxNorm", "Ingredient", "35208", "1970-01-01", true },
  { 1334456, "ramipril", "Drug", "RxNorm", "Ingredient", "35296", "1970-01-01", true },
  { 1341927, "enalapril", "Drug", "RxNorm", "Ingredient", "3827", "1970-01-01", true },
  { 1177480, "ibuprofen", "Drug", "RxNorm", "Ingredient", "5640", "1970-01-01", true },
  { 1729720, "penicillin V", "Drug", "RxNorm", "Ingredient", "7984", "1970-01-01", true },
  /* Measurements */
  { 3004249, "Systolic blood pressure", "Measurement", "LOINC", "Clinical Observation", "8480-6", "1996-09-06", true },
  { 3012888, "Diastolic blood pressure", "Measurement", "LOINC", "Clinical Observation", "8462-4", "1996-09-06", true },
  { 3025315, "Body weight", "Measurement", "LOINC", "Clinical Observation", "29463-7", "1970-01-01", true },
  { 3036277, "Body height", "Measurement", "LOINC", "Clinical Observation", "8302-2", "1996-09-06", true },
  { 3038553, "Body mass index (BMI) [Ratio]", "Measurement", "LOINC", "Clinical Observation", "39156-5", "1970-01-01", true },
  { 3027018, "Heart rate", "Measurement", "LOINC", "Clinical Observation", "8867-4", "1970-01-01", true },
  { 3024171, "Respiratory rate", "Measurement", "LOINC", "Clinical Observation", "9279-1", "1996-09-06", true },
  { 3020891, "Body temperature", "Measurement", "LOINC", "Clinical Observation", "8310-5", "1996-09-06", true },
  { 3016502, "Oxygen saturation in Arterial blood", "Measurement", "LOINC", "Lab Test", "2708-6", "1970-01-01", true },
  { 3004410, "Hemoglobin A1c/Hemoglobin.total in Blood", "Measurement", "LOINC", "Lab Test", "4548-4", "1970-01-01", true },
  { 3000483, "Glucose [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "2339-0", "1970-01-01", true },
  { 3027114, "Cholesterol [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "2093-3", "1970-01-01", true },
  { 3022192, "Triglyceride [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "2571-8", "1970-01-01", true },
  { 3009966, "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "Measurement", "LOINC", "Lab Test", "18262-6", "1998-08-25", true },
  { 3007070, "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "2085-9", "1970-01-01", true },
  { 3051825, "Creatinine [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "38483-4", "2004-10-20", true },
  { 3004295, "Urea nitrogen [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "6299-2", "1970-01-01", true },
  { 3000285, "Sodium [Moles/volume] in Blood", "Measurement", "LOINC", "Lab Test", "2947-0", "1970-01-01", true },
  { 3005456, "Potassium [Moles/volume] in Blood", "Measurement", "LOINC", "Lab Test", "6298-4", "1970-01-01", true },
  { 3018572, "Chloride [Moles/volume] in Blood", "Measurement", "LOINC", "Lab Test", "2069-3", "1970-01-01", true },
  { 3014094, "Carbon dioxide, total [Moles/volume] in Blood", "Measurement", "LOINC", "Lab Test", "20565-8", "1970-01-01", true },
  { 3032503, "Calcium [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "49765-1", "2007-08-10", true },
  { 3000963, "Hemoglobin [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "718-7", "1970-01-01", true },
  { 3023314, "Hematocrit [Volume Fraction] of Blood by Automated count", "Measurement", "LOINC", "Lab Test", "4544-3", "1970-01-01", true },
  { 3000905, "Leukocytes [#/volume] in Blood by Automated count", "Measurement", "LOINC", "Lab Test", "6690-2", "1970-01-01", true },
  { 3024929, "Platelets [#/volume] in Blood by Automated count", "Measurement", "LOINC", "Lab Test", "777-3", "1970-01-01", true },
  { 3020416, "Erythrocytes [#/volume] in Blood by Automated count", "Measurement", "LOINC", "Lab Test", "789-8", "1970-01-01", true },
  { 3023599, "MCV [Entitic volume] by Automated count", "Measurement", "LOINC", "Lab Test", "787-2", "1970-01-01", true },
  { 3024128, "Bilirubin.total [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "1975-2", "1970-01-01", true },
  { 3024561, "Albumin [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "1751-7", "1970-01-01", true },
  { 3001802, "Microalbumin/Creatinine [Mass Ratio] in Urine", "Measurement", "LOINC", "Lab Test", "14959-1", "1970-01-01", true },
  { 3029187, "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "33762-6", "1970-01-01", true },
  { 3027172, "Left ventricular Ejection fraction", "Measurement", "LOINC", "Clinical Observation", "10230-1", "1970-01-01", true },
  /* Units */
  { 8876, "millimeter mercury column", "Unit", "UCUM", "Unit", "mm[Hg]", "1970-01-01", true },
  { 9529, "kilogram", "Unit", "UCUM", "Unit", "kg", "1970-01-01", true },
  { 8582, "centimeter", "Unit", "UCUM", "Unit", "cm", "1970-01-01", true },
  { 9531, "kilogram per square meter", "Unit", "UCUM", "Unit", "kg/m2", "1970-01-01", true },
  { 8541, "per minute", "Unit", "UCUM", "Unit", "/min", "1970-01-01", true },
  { 586323, "degree Celsius", "Unit", "UCUM", "Unit", "Cel", "1970-01-01", true },
  { 8554, "percent", "Unit", "UCUM", "Unit", "%", "1970-01-01", true },
  { 8840, "milligram per deciliter", "Unit", "UCUM", "Unit", "mg/dL", "1970-01-01", true },
  { 8753, "millimole per liter", "Unit", "UCUM", "Unit", "mmol/L", "1970-01-01", true },
  { 8713, "gram per deciliter", "Unit", "UCUM", "Unit", "g/dL", "1970-01-01", true },
  { 8848, "thousand per microliter", "Unit", "UCUM", "Unit", "10*3/uL", "1970-01-01", true },
  { 8815, "million per microliter", "Unit", "UCUM", "Unit", "10*6/uL", "1970-01-01", true },
  { 8583, "femtoliter", "Unit", "UCUM", "Unit", "fL", "1970-01-01", true },
  { 8723, "milligram per gram", "Unit", "UCUM", "Unit", "mg/g", "1970-01-01", true },
  { 8845, "picogram per milliliter", "Unit", "UCUM", "Unit", "pg/mL", "1970-01-01", true },
  { 8751, "milligram per liter", "Unit", "UCUM", "Unit", "mg/L", "1970-01-01", true },
  { 8842, "nanogram per milliliter", "Unit", "UCUM", "Unit", "ng/mL", "1970-01-01", true },
  { 8837, "microgram per deciliter", "Unit", "UCUM", "Unit", "ug/dL", "1970-01-01", true },
  { 8564, "picogram", "Unit", "UCUM", "Unit", "pg", "1970-01-01", true },
  { 8859, "microgram per milliliter", "Unit", "UCUM", "Unit", "ug/mL", "1970-01-01", true },
  { 8647, "per microliter", "Unit", "UCUM", "Unit", "/uL", "1970-01-01", true },
  { 9579, "millimole per mole", "Unit", "UCUM", "Unit", "mmol/mol", "1970-01-01", true },
  { 8587, "milliliter", "Unit", "UCUM", "Unit", "mL", "1970-01-01", true },
  { 8576, "milligram", "Unit", "UCUM", "Unit", "mg", "1970-01-01", true },
  /* Visits */
  { 9201, "Inpatient Visit", "Visit", "Visit", "Visit", "IP", "1970-01-01", true },
  { 9202, "Outpatient Visit", "Visit", "Visit", "Visit", "OP", "1970-01-01", true },
  { 9203, "Emergency Room Visit", "Visit", "Visit", "Visit", "ER", "1970-01-01", true },
  /* Ethnicity */
  { 38003563, "Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "Hispanic", "1970-01-01", true },
  { 38003564, "Not Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "Not Hispanic", "1970-01-01", true },
};

/* Concepts the model refers to by name. */
enum
{
  GENDER_MALE = 8507,
  GENDER_FEMALE = 8532,
  RACE_ASIAN = 8515,
  RACE_BLACK = 8516,
  RACE_WHITE = 8527,
  ETHNICITY_HISPANIC = 38003563,
  ETHNICITY_NOT_HISPANIC = 38003564,
  VISIT_INPATIENT = 9201,
  VISIT_OUTPATIENT = 9202,
  VISIT_EMERGENCY = 9203,
  TYPE_EHR = 32817,
  CDM_VERSION_5_4 = 756265,

  COND_T2DM = 201826,
  COND_HYPERTENSION = 320128,
  COND_HYPERLIPIDEMIA = 432867,
  COND_ASTHMA = 317009,
  COND_EMPHYSEMA = 261325,
  COND_CORONARY = 317576,
  COND_HEART_FAILURE = 316139,
  COND_ATRIAL_FIBRILLATION = 313217,
  COND_CKD1 = 443614,
  COND_CKD2 = 443601,
  COND_CKD3 = 443597,
  COND_OA_KNEE = 4079750,
  COND_OA_HIP = 4079749,
  COND_RHEUMATOID = 80809,
  COND_ANEMIA = 439777,
  COND_GOUT = 440674,
  COND_OSTEOPOROSIS = 80502,
  COND_ALZHEIMER = 378419,
  COND_ATOPIC_DERMATITIS = 133834,
  COND_RHINITIS = 4280726,
  COND_METABOLIC_SYNDROME = 436940,
  COND_LOW_BACK_PAIN = 4132891,
  COND_NECK_PAIN = 43530622,
  COND_HYPERTRIGLYCERIDEMIA = 4120314,
  COND_DEPRESSION = 4152280,
  COND_HYPOTHYROIDISM = 4309027,
  COND_MIGRAINE = 43530652,
  COND_SEIZURE = 4029498,
  COND_DM_RETINOPATHY = 4226121,
  COND_DM_NEUROPATHY = 37016354,
  COND_DM_KIDNEY = 192279,
  COND_DM_MICROALBUMINURIA = 45769905,
  COND_MYOCARDIAL_INFARCTION = 4329847,
  COND_STROKE = 381316,
  COND_COLON_CANCER = 197500,
  COND_LUNG_CANCER = 4115276,
  COND_PROSTATE_NEOPLASM = 4129902,
  ACUTE_FEVER = 437663,
  ACUTE_COVID_19 = 37311061,
  ACUTE_PNEUMONIA = 255848,

  DRUG_METFORMIN = 40163924,
  DRUG_LIRAGLUTIDE = 40169222,
  DRUG_LISINOPRIL_10 = 19080128,
  DRUG_LISINOPRIL_20 = 19080129,
  DRUG_AMLODIPINE_2_5 = 19073094,
  DRUG_AMLODIPINE_5 = 1332419,
  DRUG_HYDROCHLOROTHIAZIDE = 19078106,
  DRUG_LOSARTAN_25 = 40185280,
  DRUG_LOSARTAN_50 = 40185304,
  DRUG_SIMVASTATIN_10 = 1539463,
  DRUG_SIMVASTATIN_20 = 1539411,
  DRUG_ATORVASTATIN = 1545959,
  DRUG_ALBUTEROL = 1511248,
  DRUG_FLUTICASONE = 40169216,
  DRUG_CLOPIDOGREL = 19075601,
  DRUG_NITROGLYCERIN = 19126352,
  DRUG_FUROSEMIDE = 957136,
  DRUG_CARVEDILOL = 19022781,
  DRUG_ASPIRIN = 19059056,
  DRUG_ACETAMINOPHEN = 1127433,
  DRUG_IBUPROFEN = 19078461,
  DRUG_NAPROXEN = 1115171,
  DRUG_TRAMADOL = 19134047,
  DRUG_AMOXICILLIN = 19073188,
  DRUG_AMOXICILLIN_CLAVULANATE = 1713671,
  DRUG_CEFUROXIME = 19075001,
  DRUG_PENICILLIN_V = 19133905,
  DRUG_NITROFURANTOIN = 920300,
  DRUG_ALLOPURINOL = 1167323,
  DRUG_ALENDRONATE = 40173590,
  DRUG_MEMANTINE = 40222846,
  DRUG_GALANTAMINE = 19077572,
  DRUG_LORATADINE = 19125062,
  DRUG_FEXOFENADINE = 40223821,
  DRUG_HYDROCORTISONE = 19008572,
  DRUG_DIAZEPAM = 723042,
  DRUG_SERTRALINE = 739207,
  DRUG_FLUOXETINE = 19077463,
  DRUG_PREDNISONE = 1551192,
  DRUG_WARFARIN = 40163554,
  DRUG_LEVOTHYROXINE = 40174880,

  MEAS_SYSTOLIC = 3004249,
  MEAS_DIASTOLIC = 3012888,
  MEAS_WEIGHT = 3025315,
  MEAS_HEIGHT = 3036277,
  MEAS_BMI = 3038553,
  MEAS_HEART_RATE = 3027018,
  MEAS_RESPIRATORY_RATE = 3024171,
  MEAS_TEMPERATURE = 3020891,
  MEAS_OXYGEN_SATURATION = 3016502,
  MEAS_HBA1C = 3004410,
  MEAS_GLUCOSE = 3000483,
  MEAS_CHOLESTEROL = 3027114,
  MEAS_TRIGLYCERIDE = 3022192,
  MEAS_LDL = 3009966,
  MEAS_HDL = 3007070,
  MEAS_CREATININE = 3051825,
  MEAS_UREA_NITROGEN = 3004295,
  MEAS_SODIUM = 3000285,
  MEAS_POTASSIUM = 3005456,
  MEAS_CHLORIDE = 3018572,
  MEAS_CARBON_DIOXIDE = 3014094,
  MEAS_CALCIUM = 3032503,
  MEAS_HEMOGLOBIN = 3000963,
  MEAS_HEMATOCRIT = 3023314,
  MEAS_LEUKOCYTES = 3000905,
  MEAS_PLATELETS = 3024929,
  MEAS_ERYTHROCYTES = 3020416,
  MEAS_MCV = 3023599,
  MEAS_BILIRUBIN = 3024128,
  MEAS_ALBUMIN = 3024561,
  MEAS_MICROALBUMIN_RATIO = 3001802,
  MEAS_NT_PROBNP = 3029187,
  MEAS_EJECTION_FRACTION = 3027172,

  UNIT_MMHG = 8876,
  UNIT_KG = 9529,
  UNIT_CM = 8582,
  UNIT_KG_PER_M2 = 9531,
  UNIT_PER_MINUTE = 8541,
  UNIT_CELSIUS = 586323,
  UNIT_PERCENT = 8554,
  UNIT_MG_PER_DL = 8840,
  UNIT_MMOL_PER_L = 8753,
  UNIT_G_PER_DL = 8713,
  UNIT_THOUSAND_PER_UL = 8848,
  UNIT_MILLION_PER_UL = 8815,
  UNIT_FL = 8583,
  UNIT_MG_PER_G = 8723,
  UNIT_PG_PER_ML = 8845,
};

/* One way of treating a condition: up to two drugs, given to SHARE of the
 * persons who have it. A list ends with share 0; the rest go untreated. */
struct treatment
{
  double share;
  int64_t drugs[2];
};

/* A chronic condition: the probability of having it by the end of
 * observation is (BASE + PER_YEAR * years of age above FROM_AGE) times the
 * multiplier of the person's sex, and 0 below FROM_AGE. REQUIRES names a condition that must
 * come first. INPATIENT conditions start with a hospital stay. */
struct chronic_condition
{
  int64_t concept_id;
  int from_age;
  double base;
  double per_year;
  double female;
  double male;
  int64_t requires;
  bool inpatient;
  const struct treatment *treatments;
};

static const struct treatment t2dm_treatments[] = {
  { 0.55, { DRUG_METFORMIN, 0 } },
  { 0.25, { DRUG_METFORMIN, DRUG_LIRAGLUTIDE } },
  { 0, { 0, 0 } },
};
static const struct treatment hypertension_treatments[] = {
  { 0.30, { DRUG_LISINOPRIL_10, 0 } },
  { 0.10, { DRUG_LISINOPRIL_20, DRUG_HYDROCHLOROTHIAZIDE } },
  { 0.15, { DRUG_AMLODIPINE_5, 0 } },
  { 0.05, { DRUG_AMLODIPINE_2_5, 0 } },
  { 0.15, { DRUG_HYDROCHLOROTHIAZIDE, 0 } },
  { 0.05, { DRUG_LOSARTAN_25, 0 } },
  { 0.10, { DRUG_LOSARTAN_50, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment lipid_treatments[] = {
  { 0.20, { DRUG_SIMVASTATIN_10, 0 } },
  { 0.30, { DRUG_SIMVASTATIN_20, 0 } },
  { 0.30, { DRUG_ATORVASTATIN, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment asthma_treatments[] = {
  { 0.55, { DRUG_ALBUTEROL, DRUG_FLUTICASONE } },
  { 0.35, { DRUG_ALBUTEROL, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment emphysema_treatments[] = {
  { 0.80, { DRUG_ALBUTEROL, DRUG_FLUTICASONE } },
  { 0, { 0, 0 } },
};
static const struct treatment coronary_treatments[] = {
  { 0.60, { DRUG_ASPIRIN, DRUG_NITROGLYCERIN } },
  { 0.30, { DRUG_CLOPIDOGREL, DRUG_NITROGLYCERIN } },
  { 0, { 0, 0 } },
};
static const struct treatment heart_failure_treatments[] = {
  { 0.85, { DRUG_FUROSEMIDE, DRUG_CARVEDILOL } },
  { 0, { 0, 0 } },
};
static const struct treatment atrial_fibrillation_treatments[] = {
  { 0.75, { DRUG_WARFARIN, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment pain_treatments[] = {
  { 0.40, { DRUG_NAPROXEN, 0 } },
  { 0.30, { DRUG_ACETAMINOPHEN, 0 } },
  { 0.10, { DRUG_TRAMADOL, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment rheumatoid_treatments[] = {
  { 0.70, { DRUG_PREDNISONE, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment gout_treatments[] = {
  { 0.80, { DRUG_ALLOPURINOL, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment osteoporosis_treatments[] = {
  { 0.70, { DRUG_ALENDRONATE, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment alzheimer_treatments[] = {
  { 0.50, { DRUG_MEMANTINE, 0 } },
  { 0.30, { DRUG_GALANTAMINE, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment dermatitis_treatments[] = {
  { 0.70, { DRUG_HYDROCORTISONE, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment rhinitis_treatments[] = {
  { 0.50, { DRUG_LORATADINE, 0 } },
  { 0.40, { DRUG_FEXOFENADINE, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment depression_treatments[] = {
  { 0.45, { DRUG_SERTRALINE, 0 } },
  { 0.35, { DRUG_FLUOXETINE, 0 } },
  { 0.05, { DRUG_DIAZEPAM, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment hypothyroidism_treatments[] = {
  { 0.95, { DRUG_LEVOTHYROXINE, 0 } },
  { 0, { 0, 0 } },
};
static const struct treatment no_treatment[] = {
  { 0, { 0, 0 } },
};

/* In dependency order: a condition comes after the one it requires. */
static const struct chronic_condition chronic_conditions[] = {
  { COND_T2DM, 30, 0.02, 0.0035, 0.9, 1.1, 0, false, t2dm_treatments },
  { COND_HYPERTENSION, 30, 0.05, 0.0090, 1.0, 1.1, 0, false, hypertension_treatments },
  { COND_HYPERLIPIDEMIA, 30, 0.04, 0.0060, 0.9, 1.1, 0, false, lipid_treatments },
  { COND_HYPERTRIGLYCERIDEMIA, 30, 0.03, 0.0015, 0.8, 1.2, 0, false, no_treatment },
  { COND_METABOLIC_SYNDROME, 30, 0.03, 0.0020, 1.0, 1.0, 0, false, no_treatment },
  { COND_ASTHMA, 0, 0.09, 0, 1.1, 0.9, 0, false, asthma_treatments },
  { COND_EMPHYSEMA, 50, 0.01, 0.0025, 0.8, 1.2, 0, false, emphysema_treatments },
  { COND_CORONARY, 45, 0.01, 0.0035, 0.7, 1.3, 0, false, coronary_treatments },
  { COND_MYOCARDIAL_INFARCTION, 45, 0, 0.0040, 0.6, 1.4, COND_CORONARY, true, no_treatment },
  { COND_HEART_FAILURE, 55, 0.01, 0.0030, 0.9, 1.1, 0, false, heart_failure_treatments },
  { COND_ATRIAL_FIBRILLATION, 55, 0.01, 0.0030, 0.8, 1.2, 0, false,
    atrial_fibrillation_treatments },
  { COND_STROKE, 55, 0.005, 0.0012, 1.0, 1.0, 0, true, no_treatment },
  { COND_CKD1, 40, 0.01, 0.0010, 1.0, 1.0, 0, false, no_treatment },
  { COND_CKD2, 50, 0.01, 0.0010, 1.0, 1.0, 0, false, no_treatment },
  { COND_CKD3, 60, 0.01, 0.0015, 1.0, 1.0, 0, false, no_treatment },
  { COND_DM_RETINOPATHY, 0, 0.15, 0, 1.0, 1.0, COND_T2DM, false, no_treatment },
  { COND_DM_NEUROPATHY, 0, 0.15, 0, 1.0, 1.0, COND_T2DM, false, pain_treatments },
  { COND_DM_KIDNEY, 0, 0.12, 0, 1.0, 1.0, COND_T2DM, false, no_treatment },
  { COND_DM_MICROALBUMINURIA, 0, 0.18, 0, 1.0, 1.0, COND_T2DM, false, no_treatment },
  { COND_OA_KNEE, 45, 0.02, 0.0040, 1.2, 0.8, 0, false, pain_treatments },
  { COND_OA_HIP, 50, 0.01, 0.0020, 1.2, 0.8, 0, false, pain_treatments },
  { COND_RHEUMATOID, 30, 0.01, 0.0002, 1.6, 0.4, 0, false, rheumatoid_treatments },
  { COND_ANEMIA, 0, 0.04, 0.0005, 1.5, 0.5, 0, false, no_treatment },
  { COND_GOUT, 35, 0.01, 0.0008, 0.3, 1.7, 0, false, gout_treatments },
  { COND_OSTEOPOROSIS, 55, 0.01, 0.0050, 1.8, 0.2, 0, false, osteoporosis_treatments },
  { COND_ALZHEIMER, 70, 0.01, 0.0080, 1.1, 0.9, 0, false, alzheimer_treatments },
  { COND_ATOPIC_DERMATITIS, 0, 0.05, 0, 1.0, 1.0, 0, false, dermatitis_treatments },
  { COND_RHINITIS, 0, 0.10, 0, 1.0, 1.0, 0, false, rhinitis_treatments },
  { COND_LOW_BACK_PAIN, 25, 0.04, 0.0010, 1.0, 1.0, 0, false, pain_treatments },
  { COND_NECK_PAIN, 25, 0.02, 0.0005, 1.1, 0.9, 0, false, pain_treatments },
  { COND_DEPRESSION, 0, 0.07, 0, 1.3, 0.7, 0, false, depression_treatments },
  { COND_HYPOTHYROIDISM, 30, 0.02, 0.0008, 1.7, 0.3, 0, false, hypothyroidism_treatments },
  { COND_MIGRAINE, 0, 0.04, 0, 1.6, 0.4, 0, false, pain_treatments },
  { COND_SEIZURE, 0, 0.01, 0, 1.0, 1.0, 0, false, no_treatment },
  { COND_COLON_CANCER, 50, 0, 0.0006, 0.9, 1.1, 0, true, no_treatment },
  { COND_LUNG_CANCER, 55, 0, 0.0006, 0.8, 1.2, 0, true, no_treatment },
  { COND_PROSTATE_NEOPLASM, 55, 0, 0.0020, 0, 1.0, 0, false, no_treatment },
};

#define N_CHRONIC N_ELEMENTS (chronic_conditions)

/* An acute problem seen at a visit and over after DAYS. WEIGHT is its
 * relative frequency, doubled at the emergency department for the
 * EMERGENCY ones. DRUG, when not 0, is given to DRUG_SHARE of the cases
 * for DAYS days. */
struct acute_condition
{
  int64_t concept_id;
  int weight;
  bool emergency;
  int days;
  int first_year;
  int64_t drug;
  double drug_share;
};

static const struct acute_condition acute_conditions[] = {
  { 40481087, 30, false, 14, 0, DRUG_AMOXICILLIN, 0.3 },  /* Viral sinusitis */
  { 4112343, 20, false, 10, 0, DRUG_ACETAMINOPHEN, 0.5 }, /* Acute viral pharyngitis */
  { 260139, 14, false, 21, 0, DRUG_ACETAMINOPHEN, 0.3 },  /* Acute bronchitis */
  { 372328, 8, false, 10, 0, DRUG_AMOXICILLIN, 0.7 },     /* Otitis media */
  { 28060, 6, false, 10, 0, DRUG_PENICILLIN_V, 0.9 },     /* Streptococcal sore throat */
  { 195588, 6, false, 7, 0, DRUG_NITROFURANTOIN, 0.8 },   /* Cystitis */
  { 81902, 5, true, 7, 0, DRUG_CEFUROXIME, 0.8 },         /* Urinary tract infection */
  { 4294548, 5, false, 14, 0, DRUG_AMOXICILLIN_CLAVULANATE, 0.8 }, /* Bacterial sinusitis */
  { 4283893, 5, false, 14, 0, 0, 0 },                     /* Sinusitis */
  { 81151, 6, true, 21, 0, DRUG_IBUPROFEN, 0.7 },         /* Sprain of ankle */
  { 78272, 4, true, 21, 0, DRUG_IBUPROFEN, 0.6 },         /* Sprain of wrist */
  { ACUTE_FEVER, 6, true, 4, 0, DRUG_ACETAMINOPHEN, 0.6 },
  { 254761, 8, false, 14, 0, 0, 0 },                      /* Cough */
  { ACUTE_COVID_19, 12, true, 21, 2020, DRUG_ACETAMINOPHEN, 0.4 },
  { 4289517, 3, false, 30, 2020, 0, 0 },                  /* Loss of taste */
  { 4223659, 4, false, 30, 0, 0, 0 },                     /* Fatigue */
  { 312437, 3, true, 7, 0, 0, 0 },                        /* Dyspnea */
  { ACUTE_PNEUMONIA, 4, true, 21, 0, DRUG_AMOXICILLIN_CLAVULANATE, 0.9 },
  { 378253, 5, true, 3, 0, DRUG_IBUPROFEN, 0.5 },         /* Headache */
  { 4084167, 3, true, 3, 0, DRUG_PREDNISONE, 0.4 },       /* Acute allergic reaction */
  { 134438, 3, false, 14, 0, DRUG_HYDROCORTISONE, 0.7 },  /* Contact dermatitis */
  { 4142905, 2, true, 42, 0, DRUG_TRAMADOL, 0.5 },        /* Fracture of rib */
  { 4278672, 2, true, 42, 0, DRUG_ACETAMINOPHEN, 0.6 },   /* Fracture of forearm */
  { 4059173, 2, true, 42, 0, DRUG_ACETAMINOPHEN, 0.6 },   /* Fracture of ankle */
  { 4113008, 3, true, 10, 0, 0, 0 },                      /* Laceration of hand */
  { 4156265, 2, true, 10, 0, 0, 0 },                      /* Facial laceration */
};

/* The SplitMix64 generator: small, fast and good enough for invented
 * data. Each person gets a state derived from the seed and the person id,
 * so a change in one person's records leaves the others' values alone. */
struct rng
{
  uint64_t state;
};

static uint64_t
rng_next (struct rng *rng)
{
  uint64_t z;

  rng->state += UINT64_C (0x9e3779b97f4a7c15);
  z = rng->state;
  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
rng_uniform (struct rng *rng)
{
  return (double) (rng_next (rng) >> 11) * 0x1.0p-53;
}

static bool
rng_chance (struct rng *rng, double probability)
{
  return rng_uniform (rng) < probability;
}

/* Uniform integer in [0, n). */
static int
rng_below (struct rng *rng, int n)
{
  return n <= 1 ? 0 : (int) (rng_next (rng) % (uint64_t) n);
}

/* Approximately standard normal: the Irwin-Hall sum of twelve uniforms
 * minus six. It needs no libm function, whose last bits may differ between
 * C libraries, so the output stays byte for byte the same. */
static double
rng_normal (struct rng *rng)
{
  double sum = 0;
  int i;

  for (i = 0; i < 12; i++)
    sum += rng_uniform (rng);
  return sum - 6;
}

static int
year_of_day (int days)
{
  int year, month, day;

  date_from_days (days, &year, &month, &day);
  return year;
}

static const struct demo_concept *
find_concept (int64_t id)
{
  size_t i;

  for (i = 0; i < N_ELEMENTS (vocabulary); i++)
    if (vocabulary[i].id == id)
      return &vocabulary[i];
  /* Every id the model uses is in the vocabulary: a miss is a bug here. */
  abort ();
}

/* One CSV file being written: the values of the current row, by column
 * index of the CDM table, NULL for an empty field. */
struct csv_file
{
  const struct cdm_table *table;
  FILE *file;
  char **values;
  int64_t rows;
  int errnum;
};

static int
csv_open (int dirfd, const char *table_name, struct csv_file *csv, omcp_error *err)
{
  cleanup_free char *file_name = xasprintf ("%s.csv", table_name);
  cleanup_close int fd = -1;
  size_t i;

  memset (csv, 0, sizeof *csv);
  csv->table = cdm_find_table (table_name);
  if (csv->table == NULL)
    abort ();
  fd = TEMP_FAILURE_RETRY (openat (dirfd, file_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                   0644));
  if (fd < 0)
    return omcp_error_set (err, errno, "create %s", file_name);
  csv->file = fdopen (fd, "w");
  if (csv->file == NULL)
    return omcp_error_set (err, errno, "open %s", file_name);
  steal_fd (&fd);
  csv->values = xcalloc (csv->table->n_columns, sizeof *csv->values);

  for (i = 0; i < csv->table->n_columns; i++)
    fprintf (csv->file, "%s%s", i ? "," : "", csv->table->columns[i].name);
  fputc ('\n', csv->file);
  return 0;
}

/* Close CSV; returns -1 with ERR set when any write failed. */
static int
csv_close (struct csv_file *csv, omcp_error *err)
{
  int ret = 0;

  if (csv->file)
    {
      if (ferror (csv->file))
        ret = omcp_error_set (err, EIO, "write %s.csv", csv->table->name);
      if (fclose (csv->file) != 0 && ret == 0)
        ret = omcp_error_set (err, errno, "write %s.csv", csv->table->name);
      csv->file = NULL;
    }
  if (csv->values)
    {
      for (size_t i = 0; i < csv->table->n_columns; i++)
        free (csv->values[i]);
      free (csv->values);
      csv->values = NULL;
    }
  return ret;
}

static void
csv_set (struct csv_file *csv, const char *column, char *value)
{
  const struct cdm_column *col = cdm_find_column (csv->table, column);
  size_t index;

  /* The column names are constants of this file: a miss is a bug here. */
  if (col == NULL)
    abort ();
  index = (size_t) (col - csv->table->columns);
  free (csv->values[index]);
  csv->values[index] = value;
}

static void
csv_int (struct csv_file *csv, const char *column, int64_t value)
{
  csv_set (csv, column, xasprintf ("%lld", (long long) value));
}

static void
csv_text (struct csv_file *csv, const char *column, const char *value)
{
  csv_set (csv, column, value ? xstrdup (value) : NULL);
}

static void
csv_real (struct csv_file *csv, const char *column, double value, int decimals)
{
  csv_set (csv, column, xasprintf ("%.*f", decimals, value));
}

static void
csv_date (struct csv_file *csv, const char *column, int days)
{
  int year, month, day;

  date_from_days (days, &year, &month, &day);
  csv_set (csv, column, xasprintf ("%04d-%02d-%02d", year, month, day));
}

static void
csv_datetime (struct csv_file *csv, const char *column, int days, int minute_of_day)
{
  int year, month, day;

  date_from_days (days, &year, &month, &day);
  csv_set (csv, column, xasprintf ("%04d-%02d-%02d %02d:%02d:00", year, month, day,
                                   minute_of_day / 60, minute_of_day % 60));
}

/* Write the current row, quoting fields that need it, and clear it. */
static void
csv_end_row (struct csv_file *csv)
{
  size_t i;

  for (i = 0; i < csv->table->n_columns; i++)
    {
      const char *value = csv->values[i];

      if (i)
        fputc (',', csv->file);
      if (value == NULL)
        continue;
      if (strpbrk (value, ",\"\r\n") == NULL)
        fputs (value, csv->file);
      else
        {
          fputc ('"', csv->file);
          for (; *value; value++)
            {
              if (*value == '"')
                fputc ('"', csv->file);
              fputc (*value, csv->file);
            }
          fputc ('"', csv->file);
        }
      free (csv->values[i]);
      csv->values[i] = NULL;
    }
  fputc ('\n', csv->file);
  csv->rows++;
}

enum demo_file
{
  FILE_CONCEPT,
  FILE_CDM_SOURCE,
  FILE_PERSON,
  FILE_OBSERVATION_PERIOD,
  FILE_VISIT_OCCURRENCE,
  FILE_CONDITION_OCCURRENCE,
  FILE_DRUG_EXPOSURE,
  FILE_MEASUREMENT,
  FILE_DEATH,
};

const char *const demo_tables[DEMO_N_TABLES] = {
  "concept", "cdm_source", "person", "observation_period", "visit_occurrence",
  "condition_occurrence", "drug_exposure", "measurement", "death",
};

struct generator
{
  struct csv_file files[DEMO_N_TABLES];
  int64_t next_visit_id;
  int64_t next_condition_id;
  int64_t next_drug_id;
  int64_t next_measurement_id;
};

struct visit
{
  int64_t id;
  int64_t concept_id;
  int start;
  int end;
  int minute;      /* minute of the day the visit starts */
};

/* A person's chronic condition, present from ONSET (a visit day), or
 * absent when ONSET is -1. TREATMENT indexes the condition's treatments,
 * or is -1. */
struct person_condition
{
  int onset;
  int treatment;
  bool recorded;
};

struct person
{
  int64_t id;
  bool female;
  int year_of_birth;
  int birth_day;
  int start;
  int end;
  bool died;
  double height_m;
  double bmi;
  struct person_condition conditions[N_CHRONIC];
  struct visit visits[MAX_VISITS];
  size_t n_visits;
  struct rng rng;
};

static int
age_on (const struct person *person, int day)
{
  return (day - person->birth_day) / 365;
}

static size_t
chronic_index (int64_t concept_id)
{
  size_t i;

  for (i = 0; i < N_CHRONIC; i++)
    if (chronic_conditions[i].concept_id == concept_id)
      return i;
  abort ();
}

/* True when PERSON has the chronic condition CONCEPT_ID on DAY. */
static bool
has_condition (const struct person *person, int64_t concept_id, int day)
{
  const struct person_condition *c = &person->conditions[chronic_index (concept_id)];

  return c->onset >= 0 && c->onset <= day;
}

static bool
is_treated_with (const struct person *person, int64_t concept_id, int64_t drug, int day)
{
  size_t index = chronic_index (concept_id);
  const struct person_condition *c = &person->conditions[index];
  const struct treatment *t;

  if (c->onset < 0 || c->onset > day || c->treatment < 0)
    return false;
  t = &chronic_conditions[index].treatments[c->treatment];
  return t->drugs[0] == drug || t->drugs[1] == drug;
}

static bool
is_treated (const struct person *person, int64_t concept_id, int day)
{
  const struct person_condition *c = &person->conditions[chronic_index (concept_id)];

  return c->onset >= 0 && c->onset <= day && c->treatment >= 0;
}

static int
compare_visits (const void *a, const void *b)
{
  const struct visit *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->concept_id != y->concept_id)
    return x->concept_id < y->concept_id ? -1 : 1;
  return x->minute < y->minute ? -1 : x->minute > y->minute;
}

static void
add_visit (struct person *person, int64_t concept_id, int day)
{
  struct visit *v;

  if (person->n_visits == MAX_VISITS)
    return;
  v = &person->visits[person->n_visits++];
  v->concept_id = concept_id;
  v->start = day;
  v->end = day;
  if (concept_id == VISIT_INPATIENT)
    v->end = day + 2 + rng_below (&person->rng, 6);
  if (v->end > person->end)
    v->end = person->end;
  v->minute = concept_id == VISIT_OUTPATIENT ? 8 * 60 + 15 * rng_below (&person->rng, 36)
                                             : rng_below (&person->rng, 24 * 60);
}

/* A day chosen uniformly in [FIRST, LAST]. */
static int
random_day (struct rng *rng, int first, int last)
{
  return first + rng_below (rng, last - first + 1);
}

static void
write_person (struct generator *gen, struct person *person)
{
  struct csv_file *csv = &gen->files[FILE_PERSON];
  struct rng *rng = &person->rng;
  double draw;
  int64_t race;
  const char *race_source;
  bool hispanic;
  int month, day, year;

  date_from_days (person->birth_day, &year, &month, &day);
  draw = rng_uniform (rng);
  if (draw < 0.68)
    race = RACE_WHITE, race_source = "white";
  else if (draw < 0.83)
    race = RACE_BLACK, race_source = "black";
  else if (draw < 0.92)
    race = RACE_ASIAN, race_source = "asian";
  else
    race = 0, race_source = NULL;
  hispanic = rng_chance (rng, 0.16);

  csv_int (csv, "person_id", person->id);
  csv_int (csv, "gender_concept_id", person->female ? GENDER_FEMALE : GENDER_MALE);
  csv_int (csv, "year_of_birth", year);
  csv_int (csv, "month_of_birth", month);
  csv_int (csv, "day_of_birth", day);
  csv_datetime (csv, "birth_datetime", person->birth_day, 0);
  csv_int (csv, "race_concept_id", race);
  csv_int (csv, "ethnicity_concept_id", hispanic ? ETHNICITY_HISPANIC : ETHNICITY_NOT_HISPANIC);
  csv_set (csv, "person_source_value", xasprintf ("demo-%04lld", (long long) person->id));
  csv_text (csv, "gender_source_value", person->female ? "F" : "M");
  csv_text (csv, "race_source_value", race_source);
  csv_text (csv, "ethnicity_source_value", hispanic ? "hispanic" : "not hispanic");
  csv_end_row (csv);

  csv = &gen->files[FILE_OBSERVATION_PERIOD];
  csv_int (csv, "observation_period_id", person->id);
  csv_int (csv, "person_id", person->id);
  csv_date (csv, "observation_period_start_date", person->start);
  csv_date (csv, "observation_period_end_date", person->end);
  csv_int (csv, "period_type_concept_id", TYPE_EHR);
  csv_end_row (csv);
}

/* Decide which chronic conditions PERSON will have, before the visits
 * exist. Onset is 0 for "yes" and -1 for "no" until plan_onsets sets the
 * day. */
static void
plan_conditions (struct person *person)
{
  int age = age_on (person, person->end);
  size_t i;

  for (i = 0; i < N_CHRONIC; i++)
    {
      const struct chronic_condition *c = &chronic_conditions[i];
      double p = c->base + c->per_year * (age - c->from_age);

      if (age < c->from_age)
        p = 0;

      p *= person->female ? c->female : c->male;
      if (c->concept_id == COND_T2DM && person->bmi >= 30)
        p *= 2.5;
      if (c->concept_id == COND_METABOLIC_SYNDROME && person->bmi >= 30)
        p *= 3;
      if ((c->concept_id == COND_HYPERTENSION || c->concept_id == COND_CKD2
           || c->concept_id == COND_CKD3)
          && person->conditions[chronic_index (COND_T2DM)].onset == 0)
        p *= 1.8;
      if (c->requires && person->conditions[chronic_index (c->requires)].onset != 0)
        p = 0;
      person->conditions[i].onset = rng_chance (&person->rng, p) ? 0 : -1;
      person->conditions[i].treatment = -1;
      person->conditions[i].recorded = false;
    }
}

/* Give each planned condition an onset: half of them are known at the
 * first visit, the others start at a later visit, or with a hospital stay
 * for the INPATIENT ones. A condition that requires another starts no
 * earlier than it. Then choose the treatment. */
static void
plan_onsets (struct person *person)
{
  struct rng *rng = &person->rng;
  size_t i;

  for (i = 0; i < N_CHRONIC; i++)
    {
      const struct chronic_condition *c = &chronic_conditions[i];
      struct person_condition *pc = &person->conditions[i];
      int earliest = person->visits[0].start;
      double draw, sum = 0;
      size_t t, k;

      if (pc->onset < 0)
        continue;
      if (c->requires)
        earliest = person->conditions[chronic_index (c->requires)].onset;
      if (c->inpatient)
        {
          pc->onset = random_day (rng, earliest, person->end);
          add_visit (person, VISIT_INPATIENT, pc->onset);
        }
      else if (!c->requires && rng_chance (rng, 0.5))
        pc->onset = earliest;
      else
        {
          /* A later outpatient visit, at or after EARLIEST. */
          pc->onset = -1;
          for (k = 0; k < 8 && pc->onset < 0; k++)
            {
              const struct visit *v = &person->visits[rng_below (rng, (int) person->n_visits)];

              if (v->concept_id == VISIT_OUTPATIENT && v->start >= earliest)
                pc->onset = v->start;
            }
          if (pc->onset < 0)
            pc->onset = earliest;
        }

      draw = rng_uniform (rng);
      for (t = 0; c->treatments[t].share > 0; t++)
        {
          sum += c->treatments[t].share;
          if (draw < sum)
            {
              pc->treatment = (int) t;
              break;
            }
        }
    }
}

static void
write_visit (struct generator *gen, const struct person *person, const struct visit *v)
{
  struct csv_file *csv = &gen->files[FILE_VISIT_OCCURRENCE];
  const struct demo_concept *concept = find_concept (v->concept_id);
  int end_minute;

  csv_int (csv, "visit_occurrence_id", v->id);
  csv_int (csv, "person_id", person->id);
  csv_int (csv, "visit_concept_id", v->concept_id);
  csv_date (csv, "visit_start_date", v->start);
  csv_datetime (csv, "visit_start_datetime", v->start, v->minute);
  csv_date (csv, "visit_end_date", v->end);
  /* A same-day visit lasts 30 minutes, or ends at 23:59 when it starts
   * later than 23:29. Stays end at 10:00. */
  if (v->end > v->start)
    end_minute = 10 * 60;
  else if (v->minute + 30 < 24 * 60)
    end_minute = v->minute + 30;
  else
    end_minute = 24 * 60 - 1;
  csv_datetime (csv, "visit_end_datetime", v->end, end_minute);
  csv_int (csv, "visit_type_concept_id", TYPE_EHR);
  csv_text (csv, "visit_source_value", concept->code);
  csv_end_row (csv);
}

static void
write_condition (struct generator *gen, const struct person *person, const struct visit *v,
                 int64_t concept_id, int start, int end)
{
  struct csv_file *csv = &gen->files[FILE_CONDITION_OCCURRENCE];

  csv_int (csv, "condition_occurrence_id", gen->next_condition_id++);
  csv_int (csv, "person_id", person->id);
  csv_int (csv, "condition_concept_id", concept_id);
  csv_date (csv, "condition_start_date", start);
  csv_datetime (csv, "condition_start_datetime", start, v->minute);
  if (end >= 0)
    {
      csv_date (csv, "condition_end_date", end);
      csv_datetime (csv, "condition_end_datetime", end, v->minute);
    }
  csv_int (csv, "condition_type_concept_id", TYPE_EHR);
  csv_int (csv, "visit_occurrence_id", v->id);
  csv_text (csv, "condition_source_value", find_concept (concept_id)->code);
  csv_int (csv, "condition_source_concept_id", concept_id);
  csv_end_row (csv);
}

static void
write_drug (struct generator *gen, const struct person *person, const struct visit *v,
            int64_t drug, int days_supply, int refills)
{
  struct csv_file *csv = &gen->files[FILE_DRUG_EXPOSURE];
  int end = v->start + days_supply - 1;

  csv_int (csv, "drug_exposure_id", gen->next_drug_id++);
  csv_int (csv, "person_id", person->id);
  csv_int (csv, "drug_concept_id", drug);
  csv_date (csv, "drug_exposure_start_date", v->start);
  csv_datetime (csv, "drug_exposure_start_datetime", v->start, v->minute);
  csv_date (csv, "drug_exposure_end_date", end);
  csv_datetime (csv, "drug_exposure_end_datetime", end, v->minute);
  csv_int (csv, "drug_type_concept_id", TYPE_EHR);
  csv_int (csv, "refills", refills);
  csv_real (csv, "quantity", days_supply, 0);
  csv_int (csv, "days_supply", days_supply);
  csv_int (csv, "visit_occurrence_id", v->id);
  csv_text (csv, "drug_source_value", find_concept (drug)->code);
  csv_int (csv, "drug_source_concept_id", drug);
  csv_end_row (csv);
}

/* Write one measurement. About 3 in 100 have no value, as when a result
 * was not reported. RANGE_LOW and RANGE_HIGH are written when they
 * differ. VALUE is clamped at MIN. */
static void
write_measurement (struct generator *gen, struct person *person, const struct visit *v,
                   int64_t concept_id, int64_t unit_id, double value, double min, int decimals,
                   double range_low, double range_high)
{
  struct csv_file *csv = &gen->files[FILE_MEASUREMENT];

  csv_int (csv, "measurement_id", gen->next_measurement_id++);
  csv_int (csv, "person_id", person->id);
  csv_int (csv, "measurement_concept_id", concept_id);
  csv_date (csv, "measurement_date", v->start);
  csv_datetime (csv, "measurement_datetime", v->start, v->minute);
  csv_int (csv, "measurement_type_concept_id", TYPE_EHR);
  if (!rng_chance (&person->rng, 0.03))
    {
      char *text;

      if (value < min)
        value = min;
      text = xasprintf ("%.*f", decimals, value);
      csv_text (csv, "value_as_number", text);
      csv_set (csv, "value_source_value", text);
    }
  csv_int (csv, "unit_concept_id", unit_id);
  if (range_low < range_high)
    {
      csv_real (csv, "range_low", range_low, decimals);
      csv_real (csv, "range_high", range_high, decimals);
    }
  csv_int (csv, "visit_occurrence_id", v->id);
  csv_text (csv, "measurement_source_value", find_concept (concept_id)->code);
  csv_int (csv, "measurement_source_concept_id", concept_id);
  csv_text (csv, "unit_source_value", find_concept (unit_id)->code);
  csv_end_row (csv);
}

/* Vital signs: every visit. Height only at the first visit of an adult,
 * as a clinic would record it. */
static void
write_vitals (struct generator *gen, struct person *person, const struct visit *v, bool first,
              bool fever)
{
  struct rng *rng = &person->rng;
  int day = v->start;
  int age = age_on (person, day);
  double systolic, weight;

  systolic = 112 + 0.35 * (age > 30 ? age - 30 : 0) + 10 * rng_normal (rng);
  if (has_condition (person, COND_HYPERTENSION, day))
    systolic += is_treated (person, COND_HYPERTENSION, day) ? 10 : 24;
  weight = person->bmi * person->height_m * person->height_m + 1.2 * rng_normal (rng)
           + 0.15 * (day - person->start) / 365.0;

  write_measurement (gen, person, v, MEAS_SYSTOLIC, UNIT_MMHG, systolic, 80, 0, 0, 0);
  write_measurement (gen, person, v, MEAS_DIASTOLIC, UNIT_MMHG,
                     0.45 * systolic + 22 + 6 * rng_normal (rng), 40, 0, 0, 0);
  write_measurement (gen, person, v, MEAS_HEART_RATE, UNIT_PER_MINUTE,
                     72 + 9 * rng_normal (rng)
                       + (has_condition (person, COND_ATRIAL_FIBRILLATION, day) ? 14 : 0),
                     40, 0, 0, 0);
  if (first && age >= 18)
    write_measurement (gen, person, v, MEAS_HEIGHT, UNIT_CM,
                       100 * person->height_m + 0.4 * rng_normal (rng), 120, 1, 0, 0);
  write_measurement (gen, person, v, MEAS_WEIGHT, UNIT_KG, weight, 30, 1, 0, 0);
  if (age >= 18)
    write_measurement (gen, person, v, MEAS_BMI, UNIT_KG_PER_M2,
                       weight / (person->height_m * person->height_m), 14, 1, 0, 0);
  if (v->concept_id != VISIT_OUTPATIENT || rng_chance (rng, 0.4))
    {
      write_measurement (gen, person, v, MEAS_RESPIRATORY_RATE, UNIT_PER_MINUTE,
                         15 + 1.5 * rng_normal (rng) + (fever ? 4 : 0), 8, 0, 0, 0);
      write_measurement (gen, person, v, MEAS_TEMPERATURE, UNIT_CELSIUS,
                         36.8 + 0.25 * rng_normal (rng) + (fever ? 1.5 : 0), 35, 1, 0, 0);
    }
  if (v->concept_id != VISIT_OUTPATIENT)
    write_measurement (gen, person, v, MEAS_OXYGEN_SATURATION, UNIT_PERCENT,
                       (has_condition (person, COND_EMPHYSEMA, day) ? 93 : 97.5)
                         + 1.2 * rng_normal (rng),
                       80, 0, 95, 100);
}

/* HbA1c in percent: higher with type 2 diabetes, less so when treated,
 * least with metformin and liraglutide together. */
static double
hba1c_mean (const struct person *person, int day)
{
  int age = age_on (person, day);

  if (!has_condition (person, COND_T2DM, day))
    return 5.3 + 0.01 * (age > 30 ? age - 30 : 0);
  if (is_treated_with (person, COND_T2DM, DRUG_LIRAGLUTIDE, day))
    return 7.0;
  if (is_treated_with (person, COND_T2DM, DRUG_METFORMIN, day))
    return 7.5;
  return 8.4;
}

static void
write_labs (struct generator *gen, struct person *person, const struct visit *v, bool infection)
{
  struct rng *rng = &person->rng;
  int day = v->start;
  bool inpatient = v->concept_id == VISIT_INPATIENT;
  bool diabetic = has_condition (person, COND_T2DM, day);
  bool kidney = has_condition (person, COND_CKD1, day) || has_condition (person, COND_CKD2, day)
                || has_condition (person, COND_CKD3, day) || has_condition (person, COND_DM_KIDNEY, day);
  bool heart_failure = has_condition (person, COND_HEART_FAILURE, day);
  double hba1c = hba1c_mean (person, day) + (diabetic ? 0.8 : 0.3) * rng_normal (rng);

  if (rng_chance (rng, diabetic ? 0.8 : 0.15))
    write_measurement (gen, person, v, MEAS_HBA1C, UNIT_PERCENT, hba1c, 4, 1, 4, 5.6);

  if (inpatient
      || rng_chance (rng, diabetic || kidney || has_condition (person, COND_HYPERTENSION, day)
                            ? 0.6 : 0.25))
    {
      /* Basic metabolic panel. Glucose follows HbA1c through the usual
       * estimated average glucose line, 28.7 * HbA1c - 46.7 mg/dL. */
      double creatinine = (person->female ? 0.75 : 0.95) + (kidney ? 0.7 : 0)
                          + 0.12 * rng_normal (rng);

      write_measurement (gen, person, v, MEAS_GLUCOSE, UNIT_MG_PER_DL,
                         28.7 * hba1c - 46.7 + 12 * rng_normal (rng), 40, 0, 70, 99);
      write_measurement (gen, person, v, MEAS_UREA_NITROGEN, UNIT_MG_PER_DL,
                         14 + (kidney ? 12 : 0) + 4 * rng_normal (rng), 3, 0, 7, 20);
      write_measurement (gen, person, v, MEAS_CREATININE, UNIT_MG_PER_DL, creatinine, 0.3, 2, 0.6,
                         1.2);
      write_measurement (gen, person, v, MEAS_SODIUM, UNIT_MMOL_PER_L, 140 + 2 * rng_normal (rng),
                         120, 0, 136, 145);
      write_measurement (gen, person, v, MEAS_POTASSIUM, UNIT_MMOL_PER_L,
                         4.2 + 0.35 * rng_normal (rng), 2.5, 1, 3.5, 5.1);
      write_measurement (gen, person, v, MEAS_CHLORIDE, UNIT_MMOL_PER_L,
                         103 + 2.5 * rng_normal (rng), 85, 0, 98, 107);
      write_measurement (gen, person, v, MEAS_CARBON_DIOXIDE, UNIT_MMOL_PER_L,
                         25 + 2 * rng_normal (rng), 15, 0, 22, 29);
      write_measurement (gen, person, v, MEAS_CALCIUM, UNIT_MG_PER_DL, 9.4 + 0.35 * rng_normal (rng),
                         7, 1, 8.6, 10.3);
    }

  if (rng_chance (rng, diabetic || has_condition (person, COND_HYPERLIPIDEMIA, day)
                           || has_condition (person, COND_CORONARY, day)
                         ? 0.5 : 0.15))
    {
      double cholesterol = 180 + 0.5 * (age_on (person, day) - 30) + 28 * rng_normal (rng);
      double hdl = 50 + (person->female ? 8 : 0) + 10 * rng_normal (rng);
      double triglyceride = 125 + 45 * rng_normal (rng);

      if (has_condition (person, COND_HYPERLIPIDEMIA, day))
        cholesterol += is_treated (person, COND_HYPERLIPIDEMIA, day) ? 5 : 50;
      if (has_condition (person, COND_HYPERTRIGLYCERIDEMIA, day))
        triglyceride += 130;
      if (hdl < 22)
        hdl = 22;
      if (triglyceride < 40)
        triglyceride = 40;
      write_measurement (gen, person, v, MEAS_CHOLESTEROL, UNIT_MG_PER_DL, cholesterol, 100, 0, 0,
                         200);
      write_measurement (gen, person, v, MEAS_HDL, UNIT_MG_PER_DL, hdl, 20, 0, 40, 100);
      write_measurement (gen, person, v, MEAS_TRIGLYCERIDE, UNIT_MG_PER_DL, triglyceride, 40, 0, 0,
                         150);
      write_measurement (gen, person, v, MEAS_LDL, UNIT_MG_PER_DL,
                         cholesterol - hdl - triglyceride / 5 + 8 * rng_normal (rng), 30, 0, 0, 100);
    }

  if (inpatient || infection || rng_chance (rng, has_condition (person, COND_ANEMIA, day) ? 0.5 : 0.12))
    {
      double hemoglobin = (person->female ? 13.2 : 14.8)
                          - (has_condition (person, COND_ANEMIA, day) ? 2.2 : 0)
                          + 0.9 * rng_normal (rng);

      write_measurement (gen, person, v, MEAS_HEMOGLOBIN, UNIT_G_PER_DL, hemoglobin, 6, 1,
                         person->female ? 12 : 13.5, person->female ? 15.5 : 17.5);
      write_measurement (gen, person, v, MEAS_HEMATOCRIT, UNIT_PERCENT,
                         3 * hemoglobin + rng_normal (rng), 20, 1, person->female ? 36 : 41,
                         person->female ? 46 : 53);
      write_measurement (gen, person, v, MEAS_LEUKOCYTES, UNIT_THOUSAND_PER_UL,
                         7 + (infection ? 4.5 : 0) + 1.8 * rng_normal (rng), 2, 1, 4.5, 11);
      write_measurement (gen, person, v, MEAS_ERYTHROCYTES, UNIT_MILLION_PER_UL,
                         hemoglobin / 3.1 + 0.2 * rng_normal (rng), 2.5, 2,
                         person->female ? 4.1 : 4.7, person->female ? 5.1 : 6.1);
      write_measurement (gen, person, v, MEAS_MCV, UNIT_FL,
                         90 - (has_condition (person, COND_ANEMIA, day) ? 10 : 0)
                           + 4 * rng_normal (rng),
                         60, 0, 80, 100);
      write_measurement (gen, person, v, MEAS_PLATELETS, UNIT_THOUSAND_PER_UL,
                         255 + 55 * rng_normal (rng), 50, 0, 150, 400);
    }

  if (inpatient || rng_chance (rng, 0.08))
    {
      write_measurement (gen, person, v, MEAS_ALBUMIN, UNIT_G_PER_DL, 4.2 + 0.3 * rng_normal (rng),
                         2, 1, 3.5, 5);
      write_measurement (gen, person, v, MEAS_BILIRUBIN, UNIT_MG_PER_DL,
                         0.7 + 0.25 * rng_normal (rng), 0.1, 1, 0.1, 1.2);
    }

  if (diabetic && rng_chance (rng, 0.35))
    write_measurement (gen, person, v, MEAS_MICROALBUMIN_RATIO, UNIT_MG_PER_G,
                       (has_condition (person, COND_DM_MICROALBUMINURIA, day) ? 110 : 14)
                         + 9 * rng_normal (rng),
                       1, 0, 0, 30);

  if (inpatient && (heart_failure || has_condition (person, COND_MYOCARDIAL_INFARCTION, day)))
    write_measurement (gen, person, v, MEAS_NT_PROBNP, UNIT_PG_PER_ML,
                       (heart_failure ? 1900 : 450) + 400 * rng_normal (rng), 20, 0, 0, 125);
  if (heart_failure && rng_chance (rng, inpatient ? 1 : 0.2))
    write_measurement (gen, person, v, MEAS_EJECTION_FRACTION, UNIT_PERCENT,
                       36 + 6 * rng_normal (rng), 10, 0, 50, 70);
}

/* An acute problem seen at visit V, with its drug when one is given. */
static void
write_acute (struct generator *gen, struct person *person, const struct visit *v, bool *fever,
             bool *infection)
{
  struct rng *rng = &person->rng;
  bool emergency = v->concept_id == VISIT_EMERGENCY;
  int year = year_of_day (v->start);
  int total = 0, pick;
  size_t i;

  for (i = 0; i < N_ELEMENTS (acute_conditions); i++)
    if (year >= acute_conditions[i].first_year)
      total += acute_conditions[i].weight * (emergency && acute_conditions[i].emergency ? 2 : 1);
  pick = rng_below (rng, total);
  for (i = 0; i < N_ELEMENTS (acute_conditions); i++)
    {
      const struct acute_condition *a = &acute_conditions[i];

      if (year < a->first_year)
        continue;
      pick -= a->weight * (emergency && a->emergency ? 2 : 1);
      if (pick >= 0)
        continue;
      write_condition (gen, person, v, a->concept_id, v->start, v->start + a->days);
      if (a->drug && rng_chance (rng, a->drug_share))
        write_drug (gen, person, v, a->drug, a->days < 30 ? a->days : 30, 0);
      *fever = a->concept_id == ACUTE_FEVER || a->concept_id == ACUTE_COVID_19
               || a->concept_id == ACUTE_PNEUMONIA;
      *infection = a->drug == DRUG_AMOXICILLIN || a->drug == DRUG_AMOXICILLIN_CLAVULANATE
                   || a->drug == DRUG_PENICILLIN_V || a->drug == DRUG_CEFUROXIME
                   || a->drug == DRUG_NITROFURANTOIN || a->concept_id == ACUTE_PNEUMONIA;
      return;
    }
}

/* Record the chronic conditions that start at V, and refill the drugs of
 * every treated condition: 90 days with 1 refill at outpatient visits. */
static void
write_chronic_care (struct generator *gen, struct person *person, const struct visit *v)
{
  size_t i;

  for (i = 0; i < N_CHRONIC; i++)
    {
      struct person_condition *pc = &person->conditions[i];
      const struct treatment *t;

      if (pc->onset < 0 || pc->onset > v->start)
        continue;
      if (!pc->recorded)
        {
          write_condition (gen, person, v, chronic_conditions[i].concept_id, pc->onset, -1);
          pc->recorded = true;
        }
      if (pc->treatment < 0 || v->concept_id != VISIT_OUTPATIENT)
        continue;
      t = &chronic_conditions[i].treatments[pc->treatment];
      write_drug (gen, person, v, t->drugs[0], 90, 1);
      if (t->drugs[1])
        write_drug (gen, person, v, t->drugs[1], 90, 1);
    }
}

static int64_t
death_cause (const struct person *person)
{
  static const int64_t causes[] = {
    COND_LUNG_CANCER, COND_COLON_CANCER, COND_MYOCARDIAL_INFARCTION, COND_STROKE,
    COND_HEART_FAILURE, COND_EMPHYSEMA, COND_ALZHEIMER,
  };
  size_t i;

  for (i = 0; i < N_ELEMENTS (causes); i++)
    if (has_condition (person, causes[i], person->end))
      return causes[i];
  return 0;
}

static void
generate_person (struct generator *gen, int64_t id)
{
  struct person person_storage = { 0 };
  struct person *person = &person_storage;
  struct rng *rng = &person->rng;
  int first_start = days_from_date (FIRST_START_YEAR, 1, 1);
  int last_start = days_from_date (LAST_START_YEAR, 12, 31);
  int end = days_from_date (END_YEAR, 12, 31);
  int n_outpatient, n_emergency, age_at_end, i;
  int birth_month, birth_day_of_month;
  size_t v;

  rng->state = DEMO_SEED ^ ((uint64_t) id * UINT64_C (0xd1b54a32d192ed03));
  person->id = id;
  person->female = rng_chance (rng, 0.52);
  person->year_of_birth = 1935 + rng_below (rng, 70);
  /* Two statements, because C leaves the order of a call's arguments
   * unspecified and compilers differ: the day of the month comes first. */
  birth_day_of_month = 1 + rng_below (rng, 28);
  birth_month = 1 + rng_below (rng, 12);
  person->birth_day = days_from_date (person->year_of_birth, birth_month, birth_day_of_month);
  person->start = random_day (rng, first_start, last_start);
  person->end = end;
  person->height_m = person->female ? 1.63 + 0.065 * rng_normal (rng)
                                    : 1.76 + 0.07 * rng_normal (rng);
  person->bmi = 27 + 4.5 * rng_normal (rng);
  if (person->bmi < 17)
    person->bmi = 17;

  /* Older persons may die during observation, which then ends. */
  age_at_end = age_on (person, end);
  if (age_at_end >= 65 && rng_chance (rng, 0.04 + 0.006 * (age_at_end - 65)))
    {
      person->died = true;
      person->end = random_day (rng, person->start + (end - person->start) / 2, end);
    }
  plan_conditions (person);

  n_outpatient = 3 + rng_below (rng, 5);
  for (i = 0; i < (int) N_CHRONIC; i++)
    if (person->conditions[i].onset == 0)
      n_outpatient++;
  if (n_outpatient > MAX_VISITS / 2)
    n_outpatient = MAX_VISITS / 2;
  n_emergency = rng_chance (rng, 0.3) ? 1 + rng_below (rng, 2) : 0;
  for (i = 0; i < n_outpatient; i++)
    add_visit (person, VISIT_OUTPATIENT, random_day (rng, person->start, person->end));
  for (i = 0; i < n_emergency; i++)
    add_visit (person, VISIT_EMERGENCY, random_day (rng, person->start, person->end));
  qsort (person->visits, person->n_visits, sizeof person->visits[0], compare_visits);
  plan_onsets (person);
  qsort (person->visits, person->n_visits, sizeof person->visits[0], compare_visits);

  write_person (gen, person);
  for (v = 0; v < person->n_visits; v++)
    {
      struct visit *visit = &person->visits[v];
      bool fever = false, infection = false;

      visit->id = gen->next_visit_id++;
      write_visit (gen, person, visit);
      write_chronic_care (gen, person, visit);
      if (visit->concept_id == VISIT_EMERGENCY
          || (visit->concept_id == VISIT_OUTPATIENT && rng_chance (rng, 0.25)))
        write_acute (gen, person, visit, &fever, &infection);
      write_vitals (gen, person, visit, v == 0, fever);
      write_labs (gen, person, visit, infection);
    }

  if (person->died)
    {
      struct csv_file *csv = &gen->files[FILE_DEATH];
      int64_t cause = death_cause (person);

      csv_int (csv, "person_id", person->id);
      csv_date (csv, "death_date", person->end);
      csv_datetime (csv, "death_datetime", person->end, 0);
      csv_int (csv, "death_type_concept_id", TYPE_EHR);
      if (cause)
        {
          csv_int (csv, "cause_concept_id", cause);
          csv_text (csv, "cause_source_value", find_concept (cause)->code);
          csv_int (csv, "cause_source_concept_id", cause);
        }
      csv_end_row (csv);
    }
}

static void
write_vocabulary (struct generator *gen)
{
  struct csv_file *csv = &gen->files[FILE_CONCEPT];
  size_t i;

  for (i = 0; i < N_ELEMENTS (vocabulary); i++)
    {
      const struct demo_concept *c = &vocabulary[i];

      csv_int (csv, "concept_id", c->id);
      csv_text (csv, "concept_name", c->name);
      csv_text (csv, "domain_id", c->domain);
      csv_text (csv, "vocabulary_id", c->vocabulary);
      csv_text (csv, "concept_class_id", c->concept_class);
      csv_text (csv, "standard_concept", c->standard ? "S" : NULL);
      csv_text (csv, "concept_code", c->code);
      csv_text (csv, "valid_start_date", c->valid_start);
      csv_text (csv, "valid_end_date", "2099-12-31");
      csv_end_row (csv);
    }

  /* The release dates are fixed, not today's: the files must not change
   * from one run to the next. */
  csv = &gen->files[FILE_CDM_SOURCE];
  csv_text (csv, "cdm_source_name", "omcp synthetic demo data");
  csv_text (csv, "cdm_source_abbreviation", "omcp-demo");
  csv_text (csv, "cdm_holder", "omcp");
  csv_text (csv, "source_description",
            "Invented persons and records written by omcp demo-data, for demonstrations and "
            "tests. No real person is described.");
  csv_text (csv, "source_release_date", "2024-12-31");
  csv_text (csv, "cdm_release_date", "2024-12-31");
  csv_text (csv, "cdm_version", "5.4");
  csv_int (csv, "cdm_version_concept_id", CDM_VERSION_5_4);
  csv_text (csv, "vocabulary_version", "demo subset");
  csv_end_row (csv);
}

int
demo_write_csv (int dirfd, struct demo_table_rows rows[DEMO_N_TABLES], omcp_error *err)
{
  struct generator gen = { .next_visit_id = 1, .next_condition_id = 1, .next_drug_id = 1,
                           .next_measurement_id = 1 };
  int ret = 0;
  size_t i;
  int64_t id;

  for (i = 0; i < DEMO_N_TABLES; i++)
    if (csv_open (dirfd, demo_tables[i], &gen.files[i], err) < 0)
      {
        ret = -1;
        break;
      }

  if (ret == 0)
    {
      write_vocabulary (&gen);
      for (id = 1; id <= DEMO_PERSONS; id++)
        generate_person (&gen, id);
    }

  for (i = 0; i < DEMO_N_TABLES; i++)
    {
      rows[i].table = demo_tables[i];
      rows[i].rows = gen.files[i].rows;
      if (csv_close (&gen.files[i], ret == 0 ? err : NULL) < 0)
        ret = -1;
    }
  return ret;
}
